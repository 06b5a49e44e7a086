import Foundation
import JobQueue

/// The arguments of a `reencrypt` job: exactly one of `kek_ids` and `all: true`.
public struct ReencryptArguments: JobArguments, Equatable {
    public static let kind = "reencrypt"
    /// The KEKs whose DEKs and values are replaced.
    public var kekIds: [Int32]?
    /// Every KEK: a new KEK is generated and activated first, and every DEK is replaced under it.
    public var all: Bool?
    public var batchSize: Int?
    /// Rows per second for the whole job, final pass included.
    public var maxRate: Double?
    /// How long the final pass waits for DEKs other transactions hold before failing with their ids.
    public var lockWaitSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case all
        case kekIds = "kek_ids", batchSize = "batch_size", maxRate = "max_rate", lockWaitSeconds = "lock_wait_seconds"
    }

    public static let defaultBatchSize = 200
    public static let defaultLockWaitSeconds: Double = 120

    public init(kekIds: [Int32]? = nil, all: Bool? = nil, batchSize: Int? = nil, maxRate: Double? = nil,
                lockWaitSeconds: Double? = nil) {
        self.kekIds = kekIds
        self.all = all
        self.batchSize = batchSize
        self.maxRate = maxRate
        self.lockWaitSeconds = lockWaitSeconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kekIds = try container.decodeAbsentOrValue([Int32].self, forKey: .kekIds)
        all = try container.decodeAbsentOrValue(Bool.self, forKey: .all)
        batchSize = try container.decodeAbsentOrValue(Int.self, forKey: .batchSize)
        maxRate = try container.decodeAbsentOrValue(Double.self, forKey: .maxRate)
        lockWaitSeconds = try container.decodeAbsentOrValue(Double.self, forKey: .lockWaitSeconds)
        try validate()
    }

    /// Throws `InvalidJobArguments` unless exactly one of the two targets is given and every
    /// knob is within `JobArgumentBounds`.
    public func validate() throws {
        guard (kekIds?.isEmpty ?? true) == (all == true) else {
            throw InvalidJobArguments("give exactly one of kek_ids (a non-empty list of KEK ids) and all: true")
        }
        try JobArgumentBounds.check(batchSize: batchSize, maxRate: maxRate, lockWaitSeconds: lockWaitSeconds)
    }
}
