import Foundation
import HTTPServer
import JobQueue
import KeyManagement
import PostgresClient

/// `POST /api/v1/kek/rotate`: enqueues the same rotation job as `kek rotate`.
///
/// The job shares `kek rotate`'s unique key, so a request while a rotation is queued or
/// running returns that job (`created: false`) instead of starting a second one.
enum RotationEndpoint {
    /// The reply: `{"job_id": N, "created": true|false}`.
    struct Reply: Encodable {
        var jobId: Int64
        var created: Bool

        enum CodingKeys: String, CodingKey {
            case jobId = "job_id", created
        }
    }

    /// An empty body means the defaults; otherwise a JSON object with any of `batch_size`,
    /// `parts` and `max_rate` (rows per second), each within `JobArgumentBounds`.
    /// A request that enqueued (or found) a rotation is audited (`rotation.requested`) in the
    /// same transaction, with its origin: the endpoint, the job, the peer address of the
    /// connection (what the kernel says, `peer`), and the client's User-Agent and
    /// X-Forwarded-For as sent (what the client says).
    static func handle(_ request: HTTPRequest, database: SharedConnection, actor: String) -> HTTPResponse {
        let arguments: RotationArguments
        do {
            arguments = try parse(request.body)
        } catch {
            return ErrorBody.response(.badRequest, "\(error)")
        }
        do {
            let job = try database.with { db in
                try db.transaction {
                    let job = try JobQueue(connection: db).enqueue(try KeyJobKinds.rotationRequest(arguments))
                    try AuditLog.append(db, actor: actor, action: .rotationRequested, target: "job:\(job.id)",
                                        details: origin(of: request).merging(["created": .text(job.inserted ? "yes" : "no")]) { $1 })
                    return job
                }
            }
            return .json(bytes: try JSONCodec.encodeBytes(Reply(jobId: job.id, created: job.inserted)), status: .accepted)
        } catch {
            return ErrorBody.response(.serviceUnavailable, "could not enqueue the rotation: \(error)")
        }
    }

    static func origin(of request: HTTPRequest) -> [String: AuditValue] {
        var origin: [String: AuditValue] = ["origin": .text("http \(request.method) \(request.path)")]
        if let peer = request.peer { origin["peer"] = .text(peer.description) }
        for (header, key) in [("User-Agent", "user_agent"), ("X-Forwarded-For", "forwarded_for")] {
            if let value = request.headers[header] { origin[key] = .text(String(value.prefix(200))) }
        }
        return origin
    }

    struct InvalidBody: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ body: [UInt8]) throws -> RotationArguments {
        guard body.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return RotationArguments() }
        do {
            // Decoding checks `JobArgumentBounds` (and refuses null), the same check as `kek rotate`'s.
            return try JSONCodec.decode(RotationArguments.self, from: body)
        } catch let error as InvalidJobArguments {
            throw InvalidBody(description: error.description)
        } catch {
            throw InvalidBody(description: "the body must be a JSON object with optional batch_size, parts and max_rate")
        }
    }
}

/// `{"error": "..."}` bodies for refusals, so every JSON endpoint fails in JSON.
enum ErrorBody {
    struct Body: Encodable {
        var error: String
    }

    static func response(_ status: HTTPStatus, _ message: String) -> HTTPResponse {
        let bytes = (try? JSONCodec.encodeBytes(Body(error: message))) ?? Array(#"{"error":"unknown"}"#.utf8)
        return .json(bytes: bytes, status: status)
    }
}
