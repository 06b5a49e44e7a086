import Foundation

/// The schema migrations compiled into this program from the repository's `sql/` folder by
/// the EmbedMigrations build plugin. One source of truth: the `.sql` files; the binary, the
/// test suite and `kek version` all read this list, and nothing reads SQL from the working
/// directory.
public enum KekMigrations {
    /// Every `NNN_name.sql` file as (name, text), in file-name order.
    public static let files: [(name: String, sql: String)] = EmbeddedMigrationFiles.all.map { file in
        guard let data = Data(base64Encoded: file.base64) else {
            fatalError("embedded migration \(file.name) is not valid base64 (a build plugin bug)")
        }
        return (file.name, String(decoding: data, as: UTF8.self))
    }
}
