/// The env file the demo imports: what a service's `.env` looks like before the migration.
/// Every value is fake.
enum DemoSample {
    static let envFile = """
        # payments service, production (sample: every value here is fake)
        STRIPE_API_KEY=sk_test_51DemoOnlyNotARealKey000000000000
        export DATABASE_PASSWORD='correct horse battery staple'
        SENDGRID_API_KEY="SG.demo-only.\\nsecond-line"
        WEBHOOK_SECRET=whsec_demo_0123456789abcdef  # rotated quarterly
        FEATURE_FLAGS_TOKEN=ff_demo_token
        """
}
