// crypto-bench: measures the KEK-rotation hot path (re-wrapping 32-byte DEK envelopes from one
// KEK to another on one thread) and compares its AES-GCM rate with `openssl speed`.
//
//   swift build -c release --scratch-path .build-crypto --product crypto-bench
//   .build-crypto/release/crypto-bench [--count N] [--no-openssl]
import EnvelopeCrypto
import Foundation
import KeyWrapping

struct Options {
    var count = 1_000_000
    var runOpenSSL = true

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--count":
                guard let value = iterator.next().flatMap(Int.init), value > 0 else { Self.usage() }
                count = value
            case "--no-openssl":
                runOpenSSL = false
            default:
                Self.usage()
            }
        }
    }

    static func usage() -> Never {
        FileHandle.standardError.write(Data("usage: crypto-bench [--count N] [--no-openssl]\n".utf8))
        exit(2)
    }
}

func seconds(_ duration: Duration) -> Double {
    let parts = duration.components
    return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
}

func formatRate(_ value: Double) -> String {
    String(format: "%.0f", value)
}

/// Runs `openssl speed` and returns AES-256-GCM operations per second on 32-byte messages.
/// Its table is in thousands of bytes per second: ops/s = 1000 * kB/s / 32.
func openSSLSpeed() -> (ops: Double, line: String)? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["openssl", "speed", "-evp", "aes-256-gcm", "-bytes", "32", "-seconds", "3"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    for line in output.split(separator: "\n") where line.lowercased().hasPrefix("aes-256-gcm") {
        guard let last = line.split(separator: " ").last, last.hasSuffix("k"),
              let kilobytes = Double(last.dropLast())
        else { continue }
        return (1000 * kilobytes / 32, String(line))
    }
    return nil
}

let options = Options(CommandLine.arguments)
let count = options.count

// Setup (not timed): N DEK envelopes under KEK A, each bound to its own row id.
let kekA = try KEKCipher(id: 1, key: KeyGenerator.newKEK())
let kekB = try KEKCipher(id: 2, key: KeyGenerator.newKEK())
let dek = try KeyGenerator.newDEK()
var envelopes: [[UInt8]] = []
envelopes.reserveCapacity(count)
for row in 0..<count {
    envelopes.append(try kekA.wrapDEK(dek, dekID: Int64(row)))
}
_ = kekA.takeWrapCount()

// Timed: rewrap every envelope from A to B, as a rotation batch does.
var checksum: UInt64 = 0
let clock = ContinuousClock()
let start = clock.now
for row in 0..<count {
    let rewrapped = try KEKCipher.rewrapDEK(envelopes[row], dekID: Int64(row), from: kekA, to: kekB)
    checksum &+= UInt64(rewrapped[rewrapped.count - 1])
}
let elapsed = seconds(clock.now - start)

// Spot-check that the output is right (not timed).
for row in stride(from: 0, to: count, by: max(1, count / 10)) {
    let rewrapped = try KEKCipher.rewrapDEK(envelopes[row], dekID: Int64(row), from: kekA, to: kekB)
    let unwrapped = try kekB.unwrapDEK(rewrapped, dekID: Int64(row))
    precondition(unwrapped.constantTimeEquals(dek), "rewrap is wrong")
}
precondition(kekB.takeWrapCount() >= count, "seal counter did not count the rewraps")

let rewrapsPerSecond = Double(count) / elapsed
let gcmOpsPerSecond = 2 * rewrapsPerSecond  // one open under A + one seal under B per rewrap
print("rewrapped \(count) DEK envelopes (32-byte keys, 61-byte envelopes) in \(String(format: "%.3f", elapsed)) s on one thread (checksum \(checksum))")
print("kek rewraps/s:   \(formatRate(rewrapsPerSecond))")
print("kek GCM ops/s:   \(formatRate(gcmOpsPerSecond))  (open + seal, each with nonce, AAD and tag)")

if options.runOpenSSL {
    if let speed = openSSLSpeed() {
        print("openssl speed -evp aes-256-gcm -bytes 32 -seconds 3: \(speed.line.split(separator: " ").joined(separator: " "))")
        print("openssl GCM ops/s: \(formatRate(speed.ops))  (= 1000 * kB/s / 32)")
        let ratio = gcmOpsPerSecond / speed.ops
        print("ratio kek/openssl: \(String(format: "%.2f", ratio))  (aim >= 0.50: \(ratio >= 0.5 ? "met" : "missed"))")
    } else {
        print("openssl speed: could not run or parse its output")
    }
}
