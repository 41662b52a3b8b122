import Foundation
import LatchkeyCore

/// The app settings form of the Apps pages: what was typed (to show it again next to a problem) and its checks, the
/// same rules as the API (``AppRules``), with the fields named as the form labels them.
struct AppPageForm {
    var name = ""
    var description = ""
    var status = "active"
    var displayName = ""
    var accentColor = ""
    var logoUrl = ""
    var privacyUrl = ""
    var origins = ""

    init() {}

    init(_ form: WebForm) {
        name = form.trimmed("name")
        description = form.trimmed("description")
        status = form.trimmed("status")
        displayName = form.trimmed("displayName")
        accentColor = form.trimmed("accentColor")
        logoUrl = form.trimmed("logoUrl")
        privacyUrl = form.trimmed("privacyUrl")
        origins = form["origins"] ?? ""
    }

    init(_ app: App) {
        name = app.name
        description = app.description ?? ""
        status = app.status.rawValue
        displayName = app.branding.displayName ?? ""
        accentColor = app.branding.accentColor ?? ""
        logoUrl = app.branding.logoURL ?? ""
        privacyUrl = app.branding.privacyURL ?? ""
        origins = app.allowedRedirectOrigins.joined(separator: "\n")
    }

    var context: [String: Any] {
        [
            "name": name, "description": description, "active": status != AppStatus.disabled.rawValue, "displayName": displayName,
            "accentColor": accentColor, "logoUrl": logoUrl, "privacyUrl": privacyUrl, "origins": origins,
        ]
    }

    func validName() throws -> String {
        if let problem = AppRules.nameProblem(name) { throw LatchkeyError.invalidField("Name", problem) }
        return name
    }

    func validDescription() throws -> String? {
        guard description.count <= 500 else { throw LatchkeyError.invalidField("Description", "must be at most 500 characters") }
        return description.isEmpty ? nil : description
    }

    func validStatus() throws -> AppStatus {
        guard let parsed = AppStatus(rawValue: status) else { throw LatchkeyError.invalidField("Status", "must be active or disabled") }
        return parsed
    }

    func validBranding() throws -> AppBranding {
        var branding = AppBranding()
        if !displayName.isEmpty {
            if let problem = AppRules.nameProblem(displayName) { throw LatchkeyError.invalidField("Name shown to its users", problem) }
            branding.displayName = displayName
        }
        if !accentColor.isEmpty {
            if let problem = AppRules.colorProblem(accentColor) { throw LatchkeyError.invalidField("Accent colour", problem) }
            branding.accentColor = accentColor.lowercased()
        }
        if !logoUrl.isEmpty {
            if let problem = AppRules.httpsURLProblem(logoUrl) { throw LatchkeyError.invalidField("Logo URL", problem) }
            branding.logoURL = logoUrl
        }
        if !privacyUrl.isEmpty {
            if let problem = AppRules.httpsURLProblem(privacyUrl) { throw LatchkeyError.invalidField("Privacy policy URL", problem) }
            branding.privacyURL = privacyUrl
        }
        return branding
    }

    /// One origin a line; blank lines are ignored.
    func validOrigins() throws -> [String] {
        let lines = origins.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard lines.count <= 20 else { throw LatchkeyError.invalidField("Allowed redirect origins", "must list at most 20 origins") }
        var out: [String] = []
        for line in lines {
            switch AppRules.origin(line) {
            case .success(let origin): if !out.contains(origin) { out.append(origin) }
            case .failure(let problem):
                throw LatchkeyError.invalidField("Allowed redirect origin \(line.prefix(100))", problem.message)
            }
        }
        return out
    }
}
