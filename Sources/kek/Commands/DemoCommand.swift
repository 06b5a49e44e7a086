import Foundation
import PostgresClient
import ThrowawayPostgres

extension Command {
    static let demo = Command(
        name: "demo",
        abstract: "Run the whole story on a throwaway PostgreSQL (or DATABASE_URL) and clean up.",
        options: [
            .flag("keep", "Leave the throwaway database running and print how to connect."),
        ],
        run: { arguments in
            let cluster: ThrowawayPostgres?
            let url: String
            if let given = Database.url {
                cluster = nil
                url = given
                Terminal.note("using DATABASE_URL")
            } else {
                Terminal.note("starting a throwaway PostgreSQL...")
                let started = try ThrowawayPostgres(watchdog: !arguments.flag("keep"))
                cluster = started
                url = started.connectionString
            }
            defer { if !arguments.flag("keep") { cluster?.stop() } }
            let connection = try PostgresConnection(url)
            let report = try Database.migrate(connection)
            print("schema at version \(report.currentVersion)")
            if arguments.flag("keep"), let cluster {
                print("database kept running: psql \"\(cluster.connectionString)\"")
                print("stop it with: pg_ctl -D \(cluster.directory)/data stop")
            }
        }
    )
}
