import Foundation
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage

/// Tools that answer from synced data (`fromDataset`, e.g. `slack.find_channel`): the credential is resolved as for
/// any tool (the same rules and the same `not_connected` / `needs_reauth` answers), then the caller's own records of
/// the dataset are read and matched. Nothing is sent to the provider, so neither its rate budget nor its circuit is
/// used. A dataset that is off for the Connection, or not synced yet for the credential, is an error that says what
/// to do, never an empty answer that reads as "no such record".
extension ToolInvoker {
    func answer(
        _ target: Target,
        from source: ToolDatasetSource,
        _ invocation: Invocation,
        caller: CredentialResolver.Caller,
        found: @Sendable (Credential) -> Void
    ) async throws -> Outcome {
        let start = ContinuousClock.now
        let tool = target.tool
        let input = try ToolInput(invocation.input, for: tool)
        let (query, credential) = try await credential(target, invocation, caller: caller, found: found)
        // What a provider call would have answered for a credential that must be connected again.
        do {
            try RefreshCoordinator.requireUsable(credential, serviceName: nil)
        } catch let error as LatchkeyError {
            throw resolver.reconnectable(error, credential: credential, caller: caller)
        }
        let syncedAt = try await requireSynced(source.dataset, tool: tool, credential: credential)
        let matcher = DatasetMatcher(source: source, values: input.values)
        var matches: [DatasetMatcher.Match] = []
        var after: String?
        while true {
            let batch = try await sync.records(credentialID: credential.id, dataset: source.dataset, after: after, limit: 200)
            for record in batch {
                if let fields = JSONValue.parse(record.payload), let match = matcher.match(fields) { matches.append(match) }
            }
            after = batch.last?.key
            if batch.count < 200 { break }
        }
        // Exact matches first; otherwise in key order, as stored.
        let ranked = matches.enumerated().sorted { ($0.element.exact ? 0 : 1, $0.offset) < ($1.element.exact ? 0 : 1, $1.offset) }.map(\.element)
        let limit = matcher.limit
        var recorded = try await resolver.details(query, caller)
        recorded["owner"] = credential.externalUserID ?? "shared"
        recorded["dataset"] = source.dataset
        recorded["matched"] = String(matches.count)
        try await resolver.vault.audit(
            AuditRecord(
                actor: caller.actor.id,
                action: "credential.data_read",
                target: credential.id,
                service: credential.integrationKey,
                tool: tool.name,
                ip: caller.actor.ip,
                userAgent: caller.actor.userAgent,
                details: recorded,
                person: credential.endUserID
            ),
            tenantID: caller.tenantID
        )
        let elapsed = ContinuousClock.now - start
        return Outcome(
            result: .object([
                "items": .array(ranked.prefix(limit).map(\.fields)),
                "more": .bool(ranked.count > limit),
                "syncedAt": .string(syncedAt.formatted(.iso8601)),
            ]),
            status: 200,
            durationMilliseconds: Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000),
            credential: credential,
            nextCursor: nil,
            cursorInput: nil,
            dataset: source.dataset
        )
    }

    /// When the credential's records of `dataset` were last complete; an error saying what to do when the dataset is
    /// off for the credential's Connection or has not been synced for it yet.
    private func requireSynced(_ dataset: String, tool: Tool, credential: Credential) async throws -> Date {
        let settingsURL = "\(publicURL)/api/v1/connections/\(credential.connectionID)/sync"
        let setting = try await sync.settings(connectionID: credential.connectionID).first { $0.dataset == dataset }
        guard setting?.enabled == true else {
            throw LatchkeyError(
                .conflict,
                """
                \(tool.name) answers from the \(dataset) data Latchkey syncs for each account, and that dataset is off \
                for connection \(credential.connectionID). An administrator turns it on (PUT \(settingsURL) with \
                {"datasets":{"\(dataset)":{"enabled":true}}}); its first sync follows within 15 minutes.
                """,
                action: .init(type: "enable_sync", url: settingsURL)
            )
        }
        let job = try await sync.job(credentialID: credential.id, dataset: dataset)
        if let job, let lastSuccessAt = job.lastSuccessAt { return lastSuccessAt }
        let state: String
        var retryAfter: Int?
        if let job {
            let wait = max(1, Int(job.nextRunAt.timeIntervalSince(resolver.vault.clock.now).rounded(.up)))
            switch job.status {
            case .failed:
                let why = job.lastError.map { ": \($0)" } ?? ""
                state = "its first sync failed\(why); it is tried again at \(job.nextRunAt.formatted(.iso8601))"
                retryAfter = wait
            case .paused:
                state = "its sync is paused until the account is connected again"
            case .pending, .ok:
                state =
                    job.leaseUntil.map { $0 > resolver.vault.clock.now } == true
                    ? "its first sync is running" : "its first sync is due at \(job.nextRunAt.formatted(.iso8601))"
                retryAfter = wait
            }
        } else {
            state = "its first sync has not been planned yet (that happens within 15 minutes of the dataset being turned on)"
            retryAfter = 60
        }
        throw LatchkeyError(
            .conflict,
            "\(tool.name) answers from the \(dataset) data Latchkey syncs for each account, and this account's (credential \(credential.id)) has not been synced yet: \(state). Try again after the first sync.",
            action: .init(type: "wait_for_sync", url: settingsURL),
            retryAfter: retryAfter
        )
    }
}

/// Matches records of a dataset against a tool's input as its `fromDataset` says. Pure: no I/O.
struct DatasetMatcher {
    struct Match {
        var fields: JSONValue
        /// Every comparison that held was of the whole value.
        var exact: Bool
    }

    /// Each given, non-empty input text with its match, lowercased.
    let wanted: [(text: String, match: ToolDatasetMatch)]
    let limit: Int

    init(source: ToolDatasetSource, values: [String: JSONValue]) {
        wanted = source.match.sorted { $0.key < $1.key }.compactMap { name, match in
            guard let text = values[name]?.scalarString?.trimmingCharacters(in: .whitespaces).lowercased(), !text.isEmpty else { return nil }
            return (text, match)
        }
        let given = source.limitInput.flatMap { values[$0]?.scalarString }.flatMap { Int($0) }
        limit = max(1, given ?? 20)
    }

    /// The record when it matches every given input; nil otherwise.
    func match(_ record: JSONValue) -> Match? {
        var exact = true
        for (text, match) in wanted {
            let values = match.fields.flatMap { Self.texts(at: $0.split(separator: ".").map(String.init), in: record) }
            if values.contains(text) { continue }
            guard match.mode == .contains, values.contains(where: { $0.contains(text) }) else { return nil }
            exact = false
        }
        return Match(fields: record, exact: exact)
    }

    /// The scalars at `path` in `value`, lowercased; a path through an array applies to each element.
    static func texts(at path: [String], in value: JSONValue) -> [String] {
        switch value {
        case .array(let elements): return elements.flatMap { texts(at: path, in: $0) }
        case .object(let members):
            guard let first = path.first, let member = members[first] else { return [] }
            return texts(at: Array(path.dropFirst()), in: member)
        default:
            guard path.isEmpty, let text = value.scalarString else { return [] }
            return [text.lowercased()]
        }
    }
}
