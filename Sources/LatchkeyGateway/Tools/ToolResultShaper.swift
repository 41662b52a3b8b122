public import Foundation
public import LatchkeyOAuthClient
public import LatchkeyProviders

/// A provider's successful answer shaped as the tool's ``ToolResult`` says: only the fields kept, and the next
/// page's cursor read out for `meta`. Pure: no I/O.
public struct ToolResultShaper: Sendable {
    /// What the caller gets back.
    public struct Shaped: Sendable, Equatable {
        /// The kept part of the answer; nil for an empty answer.
        public var result: JSONValue?
        /// The cursor of the next page, for a paged tool; nil on the last page or for a tool that is not paged.
        public var nextCursor: String?
    }

    public let tool: Tool

    public init(tool: Tool) { self.tool = tool }

    /// `body` shaped; nil when it is neither empty nor JSON (nor UTF-8 text, which is returned as one string).
    public func shape(_ body: Data) -> Shaped? {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return Shaped(result: nil, nextCursor: nil) }
        guard let document = JSONValue.parse(body) else {
            guard let text = String(data: body, encoding: .utf8) else { return nil }
            return Shaped(result: .string(text), nextCursor: nil)
        }
        var next: String?
        if let pagination = tool.result?.pagination, let cursor = document.value(at: pagination.nextCursor)?.scalarString, !cursor.isEmpty {
            next = cursor
        }
        guard let fields = tool.result?.fields else { return Shaped(result: document, nextCursor: next) }
        let paths = fields.map { $0.split(separator: ".").map(String.init) }
        return Shaped(result: Self.keep(paths, of: document), nextCursor: next)
    }

    /// The parts of `value` the dotted `paths` name; a path through an array applies to each element.
    static func keep(_ paths: [[String]], of value: JSONValue) -> JSONValue? {
        if paths.contains(where: \.isEmpty) { return value }
        switch value {
        case .array(let elements):
            return .array(elements.compactMap { keep(paths, of: $0) })
        case .object(let members):
            var kept: [String: JSONValue] = [:]
            var byKey: [String: [[String]]] = [:]
            for path in paths { byKey[path[0], default: []].append(Array(path.dropFirst())) }
            for (key, rests) in byKey {
                guard let member = members[key], let part = keep(rests, of: member) else { continue }
                kept[key] = part
            }
            return .object(kept)
        case .null:
            return .null
        default:
            // A path that goes on into a number or a string names nothing.
            return nil
        }
    }
}
