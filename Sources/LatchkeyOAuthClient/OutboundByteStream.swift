public import Foundation
public import NIOCore

/// A body that crosses the gateway in pieces as they arrive, never held whole: an upload on its way to a provider or
/// a provider's answer on its way back. Each iteration starts from the source again, so a stream made from a
/// one-shot source (a request body, a response body) must be iterated once.
public struct OutboundByteStream: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    private let start: @Sendable () -> AsyncIterator
    /// How many bytes the stream holds, when that is known ahead (a `Content-Length`).
    public let length: Int?

    /// The pieces of `base`, as they come; `length` is the total when it is known ahead.
    public init<Base: AsyncSequence & Sendable>(_ base: Base, length: Int? = nil) where Base.Element == ByteBuffer {
        start = { AsyncIterator(base.makeAsyncIterator()) }
        self.length = length
    }

    /// One piece holding all of `bytes` (an answer that was already read, a small body).
    public init(_ bytes: ByteBuffer) {
        length = bytes.readableBytes
        start = {
            var pending: ByteBuffer? = bytes
            return AsyncIterator {
                defer { pending = nil }
                return pending
            }
        }
    }

    /// One piece holding `data`; no piece at all when it is empty.
    public init(_ data: Data) {
        self.init(ByteBuffer(bytes: data))
    }

    private init(length: Int?, start: @escaping @Sendable () -> AsyncIterator) {
        self.length = length
        self.start = start
    }

    public func makeAsyncIterator() -> AsyncIterator { start() }

    /// Hands out the pieces of one iteration.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private let nextPiece: () async throws -> ByteBuffer?

        init<Base: AsyncIteratorProtocol>(_ base: Base) where Base.Element == ByteBuffer {
            var base = base
            nextPiece = { try await base.next() }
        }

        init(next: @escaping () async throws -> ByteBuffer?) {
            nextPiece = next
        }

        public mutating func next() async throws -> ByteBuffer? {
            while let piece = try await nextPiece() {
                if piece.readableBytes > 0 { return piece }
            }
            return nil
        }
    }

    /// The same pieces; the iteration throws `tooLarge()` as soon as more than `limit` bytes have come, before the
    /// piece that crosses the limit is handed on.
    public func limited(to limit: Int, tooLarge: @escaping @Sendable () -> any Error) -> OutboundByteStream {
        let source = self
        return OutboundByteStream(length: length) {
            var inner = source.makeAsyncIterator()
            var count = 0
            return AsyncIterator {
                guard let piece = try await inner.next() else { return nil }
                count += piece.readableBytes
                if count > limit { throw tooLarge() }
                return piece
            }
        }
    }

    /// The same pieces; an error the source throws is replaced by `transform(error)`.
    public func mappingErrors(_ transform: @escaping @Sendable (any Error) -> any Error) -> OutboundByteStream {
        let source = self
        return OutboundByteStream(length: length) {
            var inner = source.makeAsyncIterator()
            return AsyncIterator {
                do {
                    return try await inner.next()
                } catch {
                    throw transform(error)
                }
            }
        }
    }

    /// Every byte, read into memory; `tooLarge()` is thrown as soon as there are more than `limit`.
    public func collect(upTo limit: Int, tooLarge: @escaping @Sendable () -> any Error) async throws -> Data {
        var data = Data()
        for try await piece in limited(to: limit, tooLarge: tooLarge) { data.append(contentsOf: piece.readableBytesView) }
        return data
    }

    /// Reads and drops up to `limit` bytes (a short answer that is not passed on, so that its connection can be
    /// reused); stops quietly past the limit or on an error.
    public func discard(upTo limit: Int) async {
        var seen = 0
        do {
            for try await piece in self {
                seen += piece.readableBytes
                if seen > limit { return }
            }
        } catch {
            return
        }
    }
}

/// A provider's answer whose body is still arriving: status and headers are in, the body is read as it comes.
public struct OutboundStreamedResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: OutboundByteStream

    public init(status: Int, headers: [(name: String, value: String)] = [], body: OutboundByteStream) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The body's length as the provider announced it (`Content-Length`), when it did.
    public var contentLength: Int? {
        header("Content-Length").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// The first value of the header `name`, compared case-insensitively (ASCII, as header names are).
    public func header(_ name: String) -> String? {
        headers.first { Self.sameName($0.name, name) }?.value
    }

    /// Whether two header names are the same, ignoring ASCII case: without Foundation's locale-aware comparison,
    /// which cost more than the rest of a relayed call's header handling.
    static func sameName(_ lhs: String, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        return zip(lhs.utf8, rhs.utf8).allSatisfy { a, b in a == b || (a | 0x20 == b | 0x20 && (0x61...0x7A).contains(a | 0x20)) }
    }
}
