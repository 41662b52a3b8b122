import Foundation

/// A short name for the browser behind a `User-Agent`: "Chrome on Linux", "Safari on iPhone", "curl".
enum BrowserName {
    static func short(_ userAgent: String?) -> String {
        guard let agent = userAgent?.trimmingCharacters(in: .whitespaces), !agent.isEmpty else { return "unknown browser" }
        // Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
        let browsers: [(String, String)] = [
            ("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("HeadlessChrome/", "Chrome"), ("Chrome/", "Chrome"),
            ("CriOS/", "Chrome"), ("Safari/", "Safari"),
        ]
        let systems: [(String, String)] = [
            ("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"), ("Mac OS X", "macOS"),
            ("CrOS", "ChromeOS"), ("Linux", "Linux"),
        ]
        guard let browser = browsers.first(where: { agent.contains($0.0) })?.1 else {
            // A program (curl/8.5, python-requests/2.31): its name without the version.
            let name = agent.prefix { $0 != "/" && $0 != " " }
            return name.isEmpty ? "unknown browser" : String(name.prefix(40))
        }
        guard let system = systems.first(where: { agent.contains($0.0) })?.1 else { return browser }
        return "\(browser) on \(system)"
    }
}
