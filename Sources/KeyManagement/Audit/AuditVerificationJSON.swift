/// `kek audit verify --json`: `intact`, `rows`, `first_broken_row`, `head_hash`, `head_problem`
/// (the last three left out when there is none). The derived facts (`intact`, `head_hash`)
/// are written beside the stored ones, so a script need not recompute them.
extension AuditLog.Verification: Encodable {
    enum CodingKeys: String, CodingKey {
        case intact, rows
        case firstBrokenRow = "first_broken_row", headHash = "head_hash", headProblem = "head_problem"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(intact, forKey: .intact)
        try container.encode(rows, forKey: .rows)
        try container.encodeIfPresent(firstBrokenRow, forKey: .firstBrokenRow)
        try container.encodeIfPresent(headHash, forKey: .headHash)
        try container.encodeIfPresent(headProblem, forKey: .headProblem)
    }
}
