import JobQueue

/// The arguments of a `rotate_kek` job (all optional; `kek rotate` fills them from its flags).
public struct RotationArguments: JobArguments, Equatable {
    public static let kind = "rotate_kek"
    /// DEKs per batch transaction.
    public var batchSize: Int?
    /// How many parts each old KEK's DEKs are split into, for workers to claim in parallel
    /// (absent: `RotationPreparation.defaultParts(deks:)`, one per 50,000 DEKs, 1 to 8).
    public var parts: Int?
    /// An upper bound on rows per second for the whole rotation, to spare a busy database.
    public var maxRate: Double?
    /// True: move the DEKs of every `decrypt_only` KEK to the active KEK without generating
    /// one. Absent: the same while a `decrypt_only` KEK still wraps DEKs, else generate.
    public var rewrapOnly: Bool?

    enum CodingKeys: String, CodingKey {
        case parts
        case batchSize = "batch_size", maxRate = "max_rate", rewrapOnly = "rewrap_only"
    }

    public init(batchSize: Int? = nil, parts: Int? = nil, maxRate: Double? = nil, rewrapOnly: Bool? = nil) {
        self.batchSize = batchSize
        self.parts = parts
        self.maxRate = maxRate
        self.rewrapOnly = rewrapOnly
    }

    /// Absent fields take their defaults; `null` and values outside `JobArgumentBounds` are refused.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        batchSize = try container.decodeAbsentOrValue(Int.self, forKey: .batchSize)
        parts = try container.decodeAbsentOrValue(Int.self, forKey: .parts)
        maxRate = try container.decodeAbsentOrValue(Double.self, forKey: .maxRate)
        rewrapOnly = try container.decodeAbsentOrValue(Bool.self, forKey: .rewrapOnly)
        try validate()
    }

    /// Throws `InvalidJobArguments` naming the first field outside its documented bounds.
    public func validate() throws {
        try JobArgumentBounds.check(batchSize: batchSize, parts: parts, maxRate: maxRate)
    }

    /// 2,000 rows per batch measured best on 2 cores (see README, Performance): larger
    /// batches hold row locks longer for no gain in rate.
    public static let defaultBatchSize = 2000
}

/// The arguments of one `rewrap_part` job, a slice of a rotation.
struct RewrapPartArguments: JobArguments, Equatable {
    static let kind = "rewrap_part"
    var part: RewrapPart
    var batchSize: Int
    var maxRate: Double?

    enum CodingKeys: String, CodingKey {
        case part
        case batchSize = "batch_size", maxRate = "max_rate"
    }
}

/// Where a `rewrap_part` job is, committed with each batch.
struct RewrapPartCheckpoint: Codable, Sendable, Equatable {
    var afterID: Int64
    var rewrapped: Int64
    var failures: [RewrapFailure]

    enum CodingKeys: String, CodingKey {
        case rewrapped, failures
        case afterID = "after_id"
    }
}

/// What a finished `rewrap_part` reports to its parent.
struct RewrapPartResult: Codable, Sendable, Equatable {
    var rewrapped: Int64
    var failures: [RewrapFailure]
}

/// Where a `rotate_kek` job is, committed with each of its steps.
struct RotationCheckpoint: Codable, Sendable, Equatable {
    enum Phase: String, Codable, Sendable { case parts, sweep }
    var phase: Phase
    var start: RotationStart
    var startedAt: Double
    var partsDone: Int64 = 0
    var swept: Int64 = 0
    var failures: [RewrapFailure] = []

    enum CodingKeys: String, CodingKey {
        case phase, start, swept, failures
        case startedAt = "started_at", partsDone = "parts_done"
    }
}

/// What a finished rotation reports (kept on the job row, shown by status and `kek jobs show`).
struct RotationResult: Codable, Sendable, Equatable {
    var newKek: Int32
    var retiredKeks: [Int32]
    var rewrapped: Int64
    var seconds: Double

    enum CodingKeys: String, CodingKey {
        case rewrapped, seconds
        case newKek = "new_kek", retiredKeks = "retired_keks"
    }
}
