import Foundation
import LatchkeyProviders
import Testing

/// A provider's default rate budget (`rateLimit`) in the catalog: read, checked, and set for the main providers.
@Suite("Catalog rate limits")
struct RateLimitCatalogTests {
    static func entry(_ rateLimit: String) -> Data {
        let json = CatalogValidationTests.valid.replacingOccurrences(
            of: "\"proxyBaseURL\": \"https://api.acme.example\",",
            with: "\"proxyBaseURL\": \"https://api.acme.example\", \"rateLimit\": \(rateLimit),"
        )
        return Data(json.utf8)
    }

    @Test func aDefaultBudgetIsReadAndABadOneIsNamed() throws {
        let catalog = try ProviderCatalog(files: ["acme.json": Self.entry(#"{"budget": 120, "windowSeconds": 60}"#)])
        #expect(catalog.provider(id: "acme")?.rateLimit == RateLimitDefault(budget: 120, windowSeconds: 60))
        for (bad, message) in [
            (#"{"budget": 0, "windowSeconds": 60}"#, "acme.json: rateLimit.budget: must be 1 to 1000000 calls"),
            (#"{"budget": 10, "windowSeconds": 86401}"#, "acme.json: rateLimit.windowSeconds: must be 1 to 86400 seconds"),
            (#"{"budget": 10, "windowSeconds": 60, "burst": 5}"#, "acme.json: rateLimit.burst: unknown key"),
        ] {
            #expect(throws: CatalogError.self, "\(bad)") { try ProviderCatalog(files: ["acme.json": Self.entry(bad)]) }
            do {
                _ = try ProviderCatalog(files: ["acme.json": Self.entry(bad)])
            } catch let error as CatalogError {
                #expect(error.description == message)
            }
        }
    }

    @Test func theBundledMainProvidersHaveADefaultBudget() throws {
        let catalog = try ProviderCatalog.bundled()
        for id in ["github", "slack", "notion", "linear", "sandbox"] {
            #expect(catalog.provider(id: id)?.rateLimit != nil, "\(id)")
        }
        #expect(catalog.provider(id: "github")?.rateLimit == RateLimitDefault(budget: 5000, windowSeconds: 3600))
    }
}
