import Foundation

/// The checks of a provider's `datasets`: names, the tool each calls, its fixed input, paths and paging.
extension ProviderValidator {
    func validateDatasets() throws {
        var seen: Set<String> = []
        for (index, dataset) in (provider.datasets ?? []).enumerated() {
            guard isDatasetName(dataset.name) else {
                throw fail(
                    "datasets[\(index)].name",
                    "'\(dataset.name)' must be '\(provider.id).' followed by lowercase snake_case, e.g. \(provider.id).items"
                )
            }
            guard seen.insert(dataset.name).inserted else {
                throw fail("datasets[\(index)].name", "'\(dataset.name)' is defined twice")
            }
            try validate(dataset: dataset, at: "datasets[\(dataset.name)]")
        }
    }

    private func isDatasetName(_ name: String) -> Bool {
        let prefix = provider.id + "."
        guard name.hasPrefix(prefix) else { return false }
        let rest = name.dropFirst(prefix.count)
        guard let first = rest.unicodeScalars.first, ("a"..."z").contains(first), rest.count <= 64 else { return false }
        return rest.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    private func validate(dataset: Dataset, at field: String) throws {
        try nonEmpty(dataset.title, "\(field).title")
        try nonEmpty(dataset.description, "\(field).description")
        guard let tool = provider.tools?.first(where: { $0.name == dataset.tool }) else {
            throw fail("\(field).tool", "'\(dataset.tool)' is not a tool of \(provider.id)")
        }
        guard let request = tool.request else {
            throw fail("\(field).tool", "'\(tool.name)' answers from synced data; a dataset needs a tool that calls \(provider.id)")
        }
        if dataset.readsWithPost == true {
            guard request.method == "POST" else { throw fail("\(field).readsWithPost", "is only for a tool that makes a POST") }
        } else if !tool.readOnly {
            throw fail("\(field).tool", "'\(tool.name)' must be a read-only tool (or a search POST, marked readsWithPost)")
        }
        let properties = tool.input.properties
        for (name, value) in (dataset.input ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let property = properties[name] else {
                throw fail("\(field).input.\(name)", "is not an input property of \(tool.name)")
            }
            guard Self.fits(value, property) else {
                throw fail("\(field).input.\(name)", "must be a valid \(property.type) for \(tool.name)")
            }
        }
        for name in tool.input.required ?? [] where dataset.input?[name] == nil {
            throw fail("\(field).input", "must give \(tool.name)'s required input '\(name)'")
        }
        if let records = dataset.records { try dottedPath(records, "\(field).records") }
        try dottedPath(dataset.key, "\(field).key")
        guard !dataset.fields.isEmpty else { throw fail("\(field).fields", "must name at least one field") }
        for (index, path) in dataset.fields.enumerated() { try dottedPath(path, "\(field).fields[\(index)]") }
        guard dataset.fields.contains(where: { dataset.key == $0 || dataset.key.hasPrefix($0 + ".") }) else {
            throw fail("\(field).fields", "must keep the key '\(dataset.key)'")
        }
        for path in (dataset.match ?? [:]).keys.sorted() { try dottedPath(path, "\(field).match") }
        var driven: Set<String> = []
        if let pagination = dataset.pagination {
            switch pagination.style {
            case .cursor:
                guard let paging = tool.result?.pagination else {
                    throw fail("\(field).pagination.style", "cursor needs a tool with result.pagination; \(tool.name) has none")
                }
                guard pagination.pageInput == nil, pagination.sizeInput == nil else {
                    throw fail("\(field).pagination", "pageInput and sizeInput are only for the page style")
                }
                driven.insert(paging.cursorInput)
            case .page:
                guard let page = pagination.pageInput, properties[page]?.type == "integer" else {
                    throw fail("\(field).pagination.pageInput", "must name an integer input property of \(tool.name)")
                }
                guard let size = pagination.sizeInput, properties[size]?.type == "integer" else {
                    throw fail("\(field).pagination.sizeInput", "must name an integer input property of \(tool.name)")
                }
                guard dataset.input?[size] != nil || properties[size]?.default != nil else {
                    throw fail("\(field).pagination.sizeInput", "'\(size)' needs a value in the dataset's input or a default")
                }
                driven.insert(page)
            }
        }
        if let incremental = dataset.incremental {
            guard properties[incremental.input]?.type == "string" else {
                throw fail("\(field).incremental.input", "must name a string input property of \(tool.name)")
            }
            try dottedPath(incremental.from, "\(field).incremental.from")
            driven.insert(incremental.input)
        }
        for name in driven.sorted() where dataset.input?[name] != nil {
            throw fail("\(field).input.\(name)", "is set by the sync on each page; leave it out")
        }
    }

    /// Whether `value` is of the property's type, within its enum and bounds.
    private static func fits(_ value: ToolValue, _ property: ToolInputProperty) -> Bool {
        let number: Double?
        switch (property.type, value) {
        case ("string", .string(let text)):
            return property.enum?.contains(text) ?? true
        case ("integer", .integer(let whole)): number = Double(whole)
        case ("number", .integer(let whole)): number = Double(whole)
        case ("number", .number(let real)): number = real
        case ("boolean", .bool): return true
        default: return false
        }
        guard let number else { return false }
        return number >= (property.minimum ?? -.infinity) && number <= (property.maximum ?? .infinity)
    }
}
