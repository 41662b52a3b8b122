public import Foundation
import LatchkeyCore
public import LatchkeyOAuthClient
import LatchkeyProviders

extension FakeProvider {
    /// Serves `records` as the API behind the catalog dataset `name`: its tool's path answers, to a valid access
    /// token, the records the way the dataset walks them — a cursor page of `pageSize` records with the next
    /// cursor where the tool says, or numbered pages of the size asked for — and, for an incremental dataset, only
    /// the records whose `incremental.from` is after the value sent.
    public func serve(dataset name: String, records: [JSONValue], pageSize: Int = 2) {
        datasetRecords[name] = (records, pageSize)
    }

    /// Accepts each of `tokens` as an access token of its own account, as if the fake had issued it: for credentials
    /// imported or seeded rather than connected through the fake.
    public func acceptAccessTokens(_ tokens: [String]) {
        for token in tokens {
            nextFamily += 1
            accessTokens[token] = Session(account: Account(id: "imported-\(nextFamily)"), scopes: [], family: nextFamily - 1)
        }
    }

    /// Limits the API behind the datasets to `limit` calls per fixed `window` of seconds (on the fake's clock), as
    /// providers do: every answer carries the catalog's rate-limit headers (`rateLimitHeaders`: calls left, the
    /// window's limit and its reset as Unix seconds), and a call over the limit is answered 429 with `Retry-After`
    /// and counted in ``datasetRateLimited``.
    public func limitAPI(_ limit: Int, per window: TimeInterval) {
        apiLimit = (max(0, limit), max(1, window))
        apiWindow = nil
    }

    func datasetEndpoint(_ request: OutboundRequest) -> OutboundResponse? {
        for dataset in provider.datasets ?? [] {
            guard let served = datasetRecords[dataset.name], let tool = provider.tools?.first(where: { $0.name == dataset.tool }),
                let call = tool.request, request.method == call.method, let url = endpoints.apiURL(call.path), Self.sameEndpoint(request.url, url)
            else { continue }
            guard authorizedSession(request) != nil else {
                return Self.json(401, .object(["error": .string("invalid_token")]))
            }
            let (allowed, headers) = countAPICall()
            guard allowed else {
                datasetRateLimited += 1
                var limited = Self.json(429, .object(["error": .string("rate_limited"), "message": .string("API rate limit exceeded")]))
                limited.headers += headers
                return limited
            }
            datasetPages += 1
            var answer = page(of: dataset, tool: tool, served.records, pageSize: served.pageSize, values: inputs(request, tool: tool))
            answer.headers += headers
            return answer
        }
        return nil
    }

    /// Counts one API call against ``limitAPI(_:per:)``: whether it is allowed, and the rate-limit headers to answer.
    private func countAPICall() -> (allowed: Bool, headers: [(name: String, value: String)]) {
        guard let limit = apiLimit else { return (true, []) }
        let now = clock.now
        var window = apiWindow ?? (now, 0)
        if now >= window.start.addingTimeInterval(limit.window) { window = (now, 0) }
        let allowed = window.calls < limit.limit
        if allowed { window.calls += 1 }
        apiWindow = window
        let reset = window.start.addingTimeInterval(limit.window)
        let names = provider.rateLimitHeaders
        var headers: [(name: String, value: String)] = []
        if let name = names?.remaining { headers.append((name, String(limit.limit - window.calls))) }
        if let name = names?.limit { headers.append((name, String(limit.limit))) }
        if let name = names?.reset { headers.append((name, String(Int(reset.timeIntervalSince1970.rounded(.up))))) }
        if !allowed { headers.append((names?.retryAfter ?? "Retry-After", String(max(1, Int(reset.timeIntervalSince(now).rounded(.up)))))) }
        return (allowed, headers)
    }

    /// The tool's input fields as the request carries them (query parameters, or JSON body fields).
    private func inputs(_ request: OutboundRequest, tool: Tool) -> [String: String] {
        var values: [String: String] = [:]
        let query = Self.query(of: request.url)
        for (parameter, field) in tool.request?.query ?? [:] { values[field] = query[parameter] }
        if let body = request.body, let document = JSONValue.parse(body) {
            for (path, field) in tool.request?.body?.fields ?? [:] { values[field] = document.value(at: path)?.scalarString }
        }
        return values
    }

    private func page(of dataset: Dataset, tool: Tool, _ all: [JSONValue], pageSize: Int, values: [String: String]) -> OutboundResponse {
        var records = all
        if let incremental = dataset.incremental, let since = values[incremental.input] {
            records = records.filter { ($0.value(at: incremental.from)?.scalarString ?? "") > since }
        }
        var slice: ArraySlice<JSONValue>
        var next: String?
        switch dataset.pagination?.style {
        case .cursor?:
            let start = values[tool.result?.pagination?.cursorInput ?? ""].flatMap(Int.init).map { min(max($0, 0), records.count) } ?? 0
            let end = min(start + pageSize, records.count)
            slice = records[start..<end]
            if end < records.count { next = String(end) }
        case .page?:
            let size = values[dataset.pagination?.sizeInput ?? ""].flatMap(Int.init) ?? pageSize
            let page = max(1, values[dataset.pagination?.pageInput ?? ""].flatMap(Int.init) ?? 1)
            let start = min((page - 1) * size, records.count)
            slice = records[start..<min(start + size, records.count)]
        case nil:
            slice = records[...]
        }
        let array = JSONValue.array(Array(slice))
        var document = dataset.records.map { JSONValue.object([:]).setting(array, at: $0) } ?? array
        if let next, let path = tool.result?.pagination?.nextCursor { document = document.setting(.string(next), at: path) }
        if quirks.okFalseErrors { document = document.setting(.bool(true), at: "ok") }
        return Self.json(200, document)
    }
}
