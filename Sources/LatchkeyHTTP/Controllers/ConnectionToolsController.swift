import Foundation
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyGateway
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage

/// *Try a tool* in the Connection Center: the signed-in person calls one of the tools of a connected account that
/// only read and take no input (the sandbox's `sandbox.list_items` in `--demo`), through the same code as
/// `POST /api/v1/tools/invoke`, acting for the console app, and sees the JSON it returns.
struct ConnectionToolsController {
    let connect: ConnectService
    let invoker: ToolInvoker
    let sessions: WebSessions

    func addRoutes(to group: RouterGroup<SignedInContext>) {
        group.post("connections/:id/tools", use: call)
    }

    /// The tools the Connection Center offers to try on a credential of `provider`: those that only read and need
    /// no input.
    static func tryable(_ provider: Provider?) -> [Tool] {
        (provider?.tools ?? []).filter { $0.readOnly && ($0.input.required ?? []).isEmpty }
    }

    @Sendable func call(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let user = context.user
        let id = (context.parameters.get("id") ?? "").lowercased()
        let credential = try await connect.ownCredential(id, endUser: try await connect.endUser(for: user), user: user)
        let name = form["tool"] ?? ""
        guard let entry = connect.catalog.tool(named: name),
            Self.tryable(entry.provider).contains(where: { $0.name == name }),
            let integration = try await connect.integrations.integrations.find(key: credential.integrationKey, tenantID: user.tenantID),
            integration.provider == entry.provider.id
        else {
            throw LatchkeyError.invalidField("tool", "is not a tool you can try on this connection")
        }
        let service = integration.displayName ?? entry.provider.displayName
        var page: [String: Any] = ["tool": entry.tool.name, "title": entry.tool.title, "service": service]
        var status: HTTPResponse.Status = .ok
        do {
            let target = try await invoker.target(tool: name, integration: integration.key, tenantID: user.tenantID) { _ in true }
            let outcome = try await invoker.invoke(
                target,
                .init(input: nil, externalUserID: user.id, connectionID: nil, credentialID: credential.id),
                caller: .init(tenantID: user.tenantID, appID: nil, actor: AuditActor(id: "user:\(user.id)", ip: context.remoteAddress))
            )
            page["result"] = Self.pretty(outcome.result ?? .null)
            page["meta"] = "HTTP \(outcome.status) from \(service) in \(outcome.durationMilliseconds) ms"
        } catch let error as LatchkeyError {
            // What the API would answer, in words, with its next step as a link.
            page["error"] = error.message
            page["code"] = error.code.rawValue
            page["actionURL"] = error.action?.url as Any
            status = HTTPResponse.Status(code: error.httpStatus)
        }
        return HTMLPage.render(
            "tool-result",
            title: "\(entry.tool.title) — \(service)",
            context: page,
            status: status,
            chrome: PageChrome(context, sessions: sessions)
        )
    }

    /// The JSON text indented for reading.
    static func pretty(_ value: JSONValue) -> String {
        let compact = Data(ToolJSON.bytes(value))
        guard let object = try? JSONSerialization.jsonObject(with: compact, options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(
                withJSONObject: object,
                options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]
            )
        else { return String(decoding: compact, as: UTF8.self) }
        return String(decoding: data, as: UTF8.self)
    }
}
