import XCTest
final class JobQueuePlaceholderTests: XCTestCase {}
