import Foundation
import PostgresClient

/// Login roles for running kek and applications as the runbooks recommend: a login granted
/// only `kek_worker` (the worker, `serve`, the key commands) or only `kek_app` (an application
/// bound to projects through `project_logins`). Roles are cluster-wide, so each login is made
/// once per cluster; the project binding is per database.
public enum TestLogins {
    public static let worker = "kek_e2e_worker"
    public static let app = "kek_e2e_app"
    public static let otherApp = "kek_e2e_other_app"

    /// `url` with its user replaced by `login`, which is created (LOGIN, member of `role` only, or of none)
    /// when missing. The group roles are created too when missing (006 tolerates that).
    public static func url(_ url: String, login: String, memberOf role: String?) throws -> String {
        let admin = try PostgresConnection(url)
        for name in ["kek_worker", "kek_app", login] {
            try admin.query("""
                DO $$ BEGIN
                    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(name)') THEN
                        CREATE ROLE \(name) \(name == login ? "LOGIN" : "NOLOGIN");
                    END IF;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                END $$
                """)
        }
        if let role { try admin.query("GRANT \(role) TO \(login)") }
        guard url.contains("user=postgres") else { throw PostgresError(.usage, message: "unexpected test URL \(url)") }
        return url.replacingOccurrences(of: "user=postgres", with: "user=\(login)")
    }

    /// The application login's URL, bound to `projects` in this database.
    public static func appURL(_ url: String, login: String = app, projects: [UUID]) throws -> String {
        let bound = try Self.url(url, login: login, memberOf: "kek_app")
        let admin = try PostgresConnection(url)
        for project in projects {
            try admin.execute("INSERT INTO project_logins (login, project_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [login, project])
        }
        return bound
    }
}
