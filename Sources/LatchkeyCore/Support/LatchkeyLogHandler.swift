import Foundation
public import Logging
import Synchronization

/// Log lines as text (`2026-11-23T13:00:00Z info latchkey: message key=value`) or one JSON object per line,
/// written to a sink (standard error by default, a buffer in tests).
public struct LatchkeyLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable { case text, json }

    public typealias Sink = @Sendable (String) -> Void

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: Format
    let sink: Sink

    public init(label: String, format: Format, level: Logger.Level = .info, sink: @escaping Sink = LatchkeyLogHandler.standardError) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let timestamp = Date().formatted(.iso8601)
        switch format {
        case .text:
            var line = "\(timestamp) \(event.level) \(label): \(event.message)"
            for key in merged.keys.sorted() { line += " \(key)=\(merged[key]!)" }
            sink(line + "\n")
        case .json:
            var object: [String: String] = ["ts": timestamp, "level": event.level.rawValue, "logger": label, "msg": event.message.description]
            for (key, value) in merged { object[key] = "\(value)" }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = (try? encoder.encode(object)) ?? Data()
            sink(String(decoding: data, as: UTF8.self) + "\n")
        }
    }

    public static let standardError: Sink = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// Keeps every log line in memory; tests grep it for secrets.
public final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    public var sink: LatchkeyLogHandler.Sink { { [self] line in lines.withLock { $0.append(line) } } }

    public var text: String { lines.withLock { $0.joined() } }

    public func logger(label: String = "latchkey", format: LatchkeyLogHandler.Format = .json, level: Logger.Level = .trace) -> Logger {
        let sink = self.sink
        return Logger(label: label) { label in LatchkeyLogHandler(label: label, format: format, level: level, sink: sink) }
    }
}
