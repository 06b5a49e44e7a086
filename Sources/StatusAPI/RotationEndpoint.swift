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
    }

    /// An empty body means the defaults; otherwise a JSON object with any of `batch_size`,
    /// `parts` and `max_rate` (rows per second), each within `JobArgumentBounds`.
    static func handle(_ request: HTTPRequest, database: SharedConnection) -> HTTPResponse {
        let arguments: RotationArguments
        do {
            arguments = try parse(request.body)
        } catch {
            return ErrorBody.response(.badRequest, "\(error)")
        }
        do {
            let job = try database.with { try JobQueue(connection: $0).enqueue(try KeyJobKinds.rotationRequest(arguments)) }
            return .json(bytes: try StatusJSON.encode(Reply(jobId: job.id, created: job.inserted)), status: .accepted)
        } catch {
            return ErrorBody.response(.serviceUnavailable, "could not enqueue the rotation: \(error)")
        }
    }

    struct InvalidBody: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ body: [UInt8]) throws -> RotationArguments {
        guard body.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return RotationArguments() }
        do {
            // Decoding checks `JobArgumentBounds` (and refuses null), the same check as `kek rotate`'s.
            return try JobJSON.decode(RotationArguments.self, from: String(decoding: body, as: UTF8.self))
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
        let bytes = (try? StatusJSON.encode(Body(error: message))) ?? Array(#"{"error":"unknown"}"#.utf8)
        return .json(bytes: bytes, status: status)
    }
}
