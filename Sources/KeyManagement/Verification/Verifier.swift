import EnvelopeCrypto
import Foundation
import KeyWrapping
import PostgresClient

/// What `kek verify` found.
public struct VerificationReport: Codable, Sendable {
    /// KEK id → DEKs that opened under it.
    public var deksPerKek: [Int32: Int64] = [:]
    public var keksChecked = 0
    public var deksChecked: Int64 = 0
    public var valuesChecked: Int64 = 0
    /// Every row that failed, with the reason (ids only, never bytes).
    public var failures: [VerificationFailure] = []
    /// Retired KEKs this keyring cannot open. Not failures: no DEK is under them (the
    /// database refuses a retired KEK with DEKs), so nothing readable depends on them, and
    /// a KEK whose root key is lost must still be destroyable (runbooks/unopenable-kek.md).
    public var unopenableRetiredKEKs: [Int32] = []

    public var passed: Bool { failures.isEmpty }

    public init() {}
}

/// In JSON, `deks_per_kek` is an array of objects (`[{"kek_id": 2, "deks": 30000}]`, ordered
/// by KEK id): a dictionary keyed by a number would otherwise encode as the flat array
/// `[2, 30000]` (README "JSON output"). The flat form still decodes.
extension VerificationReport {
    struct KEKCount: Codable {
        var kekId: Int32
        var deks: Int64

        enum CodingKeys: String, CodingKey {
            case deks
            case kekId = "kek_id"
        }
    }

    /// As `JobJSON`'s snake_case strategy wrote them (verify job results, `kek verify --json`).
    enum CodingKeys: String, CodingKey {
        case failures
        case deksPerKek = "deks_per_kek", keksChecked = "keks_checked", deksChecked = "deks_checked"
        case valuesChecked = "values_checked", unopenableRetiredKeks = "unopenable_retired_keks"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let counts = try? c.decode([KEKCount].self, forKey: .deksPerKek) {
            deksPerKek = Dictionary(counts.map { ($0.kekId, $0.deks) }, uniquingKeysWith: +)
        } else {
            deksPerKek = try c.decode([Int32: Int64].self, forKey: .deksPerKek)
        }
        keksChecked = try c.decode(Int.self, forKey: .keksChecked)
        deksChecked = try c.decode(Int64.self, forKey: .deksChecked)
        valuesChecked = try c.decode(Int64.self, forKey: .valuesChecked)
        failures = try c.decode([VerificationFailure].self, forKey: .failures)
        unopenableRetiredKEKs = try c.decodeIfPresent([Int32].self, forKey: .unopenableRetiredKeks) ?? []
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(deksPerKek.sorted { $0.key < $1.key }.map { KEKCount(kekId: $0.key, deks: $0.value) }, forKey: .deksPerKek)
        try c.encode(keksChecked, forKey: .keksChecked)
        try c.encode(deksChecked, forKey: .deksChecked)
        try c.encode(valuesChecked, forKey: .valuesChecked)
        try c.encode(failures, forKey: .failures)
        try c.encode(unopenableRetiredKEKs, forKey: .unopenableRetiredKeks)
    }
}

public struct VerificationFailure: Codable, Sendable, Equatable {
    public var table: String
    public var id: String
    public var reason: String
}

/// Opens every KEK and DEK (and optionally every value) to prove the store is readable.
///
/// It reads in keyset-paginated batches, each in a short read-only transaction (`reads`), so it
/// holds no locks and keeps memory flat on millions of rows. Failures are collected, not fatal.
/// `check` only reads; `record` writes the outcome, in the caller's transaction (a verify job
/// writes it in its fenced batch).
public struct Verifier {
    /// Runs one batch of reads with the connection it hands to `body`: the caller's own
    /// connection in a read-only snapshot (`kek verify`), or a job's read handle.
    public typealias Reads = (_ body: (PostgresConnection) throws -> Void) throws -> Void

    private let connection: PostgresConnection?
    private let reads: Reads
    public let rootKeys: RootKeys
    public var batchSize = 5000
    /// Called between batches (outside any transaction) with the DEKs checked so far.
    public var progress: (Int64) -> Void = { _ in }

    public init(connection: PostgresConnection, rootKeys: RootKeys) {
        self.connection = connection
        self.rootKeys = rootKeys
        reads = { body in try connection.transaction(.readOnlySnapshot) { try body(connection) } }
    }

    /// A verifier that reads only through `reads` (for `check`; it has no connection to `run` on).
    public init(rootKeys: RootKeys, reads: @escaping Reads) {
        connection = nil
        self.rootKeys = rootKeys
        self.reads = reads
    }

    /// Runs the whole verification and records its outcome in the audit log.
    public func run(openValues: Bool, actor: String) throws -> VerificationReport {
        guard let connection else {
            throw PostgresError(.usage, message: "this verifier only reads; record its report with Verifier.record")
        }
        let report = try check(openValues: openValues)
        try connection.transaction { try Self.record(report, on: connection, actor: actor) }
        return report
    }

    /// Opens everything and reports what failed; writes nothing.
    public func check(openValues: Bool) throws -> VerificationReport {
        var report = VerificationReport()
        var ciphers: [Int32: KEKCipher] = [:]
        try reads { connection in
            let keks = KEKCiphers(connection: connection, rootKeys: rootKeys)
            for row in try connection.query("""
                SELECT id, state, EXISTS (SELECT 1 FROM data_keys d WHERE d.kek_id = k.id)
                  FROM keks k WHERE wrapped_key IS NOT NULL ORDER BY id
                """) {
                let id: Int32 = try row.decode(0)
                do {
                    ciphers[id] = try keks.cipher(id)
                    report.keksChecked += 1
                } catch {
                    let hasDEKs: Bool = try row.decode(2)
                    if try row.decode(1, as: String.self) == KEKState.retired.rawValue && !hasDEKs {
                        report.unopenableRetiredKEKs.append(id)
                    } else {
                        let hint = hasDEKs ? "" : "; it has no DEKs: retire it ('kek keys retire \(id)') and verify again"
                        report.failures.append(VerificationFailure(table: "keks", id: "\(id)", reason: "\(error)\(hint)"))
                    }
                }
            }
        }
        try verifyDEKs(ciphers: ciphers, into: &report)
        if openValues {
            for table in EncryptedValueTable.all { try verifyValues(table, into: &report) }
        }
        return report
    }

    /// Records `report` (the destruction proof in `kek_verifications`, a table only kek's
    /// roles may write, sql/042, and the audit row) inside the caller's transaction.
    public static func record(_ report: VerificationReport, on connection: PostgresConnection, actor: String) throws {
        try connection.execute(
            "INSERT INTO kek_verifications (keks_checked, deks_checked, values_checked, failures) VALUES ($1, $2, $3, $4)",
            [report.keksChecked, report.deksChecked, report.valuesChecked, report.failures.count])
        try AuditLog.append(connection, actor: actor, action: .verification, target: nil, details: [
            "keks": .int(Int64(report.keksChecked)), "deks": .int(report.deksChecked),
            "values": .int(report.valuesChecked), "failures": .int(Int64(report.failures.count)),
            "failed_rows": .texts(report.failures.prefix(50).map { "\($0.table):\($0.id)" }),
            "unopenable_retired_keks": .texts(report.unopenableRetiredKEKs.map { "kek:\($0)" }),
        ])
    }

    private func verifyDEKs(ciphers: [Int32: KEKCipher], into report: inout VerificationReport) throws {
        var after: Int64 = 0
        var more = true
        while more {
            try reads { connection in
                let rows = try connection.query(
                    "SELECT id, kek_id, wrapped_key FROM data_keys WHERE id > $1 ORDER BY id LIMIT $2", [after, batchSize])
                guard let last = rows.last else { more = false; return }
                after = try last.decode(0)
                for row in rows {
                    let id: Int64 = try row.decode(0)
                    let kekID: Int32 = try row.decode(1)
                    report.deksChecked += 1
                    guard let cipher = ciphers[kekID] else {
                        report.failures.append(VerificationFailure(table: "data_keys", id: "\(id)",
                                                                   reason: "its KEK \(kekID) cannot be opened"))
                        continue
                    }
                    do {
                        _ = try cipher.unwrapDEK(try row.decode(2), dekID: id)
                        report.deksPerKek[kekID, default: 0] += 1
                    } catch {
                        report.failures.append(VerificationFailure(table: "data_keys", id: "\(id)", reason: "\(error)"))
                    }
                }
            }
            if more { progress(report.deksChecked) }
        }
    }

    private func verifyValues(_ table: EncryptedValueTable, into report: inout VerificationReport) throws {
        var after = UUID(uuidString: "00000000-0000-0000-0000-000000000000")!
        var more = true
        // One short transaction per batch: its statements share one BEGIN (and lock_timeout).
        while more {
            try reads { connection in
                let keks = KEKCiphers(connection: connection, rootKeys: rootKeys)
                let rows = try connection.query(
                    "SELECT id, project_id, dek_id, ciphertext FROM \(table.name) WHERE id > $1 AND dek_id IS NOT NULL ORDER BY id LIMIT $2",
                    [after, batchSize])
                guard let last = rows.last else { more = false; return }
                after = try last.decode(0)
                for row in rows {
                    let id: UUID = try row.decode(0)
                    do {
                        let dek = try DataKeys.open(connection, id: try row.decode(2), keks: keks)
                        var value = try table.open(dek, try row.decode(3), id, try row.decode(1))
                        secureZero(&value)
                        report.valuesChecked += 1
                    } catch {
                        report.failures.append(VerificationFailure(table: table.name, id: id.uuidString.lowercased(), reason: "\(error)"))
                    }
                }
            }
            if more { progress(report.deksChecked) }
        }
    }
}
