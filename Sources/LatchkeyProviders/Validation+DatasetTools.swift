/// The checks of a tool that answers from synced data (`fromDataset`): the dataset is one of the provider's, each
/// match compares an input field with fields the dataset keeps, and every input field is used.
extension ProviderValidator {
    func validate(source: ToolDatasetSource, of tool: Tool, at toolField: String) throws {
        let field = "\(toolField).fromDataset"
        guard tool.readOnly else { throw fail("\(toolField).readOnly", "must be true: the tool only reads synced data") }
        guard tool.result == nil else {
            throw fail("\(toolField).result", "is not for a tool that answers from a dataset (its fields are the dataset's)")
        }
        guard let dataset = provider.datasets?.first(where: { $0.name == source.dataset }) else {
            let known = (provider.datasets ?? []).map(\.name)
            throw fail(
                "\(field).dataset",
                "'\(source.dataset)' is not a dataset of \(provider.id)" + (known.isEmpty ? "" : "; known: \(known.joined(separator: ", "))")
            )
        }
        let properties = tool.input.properties
        guard !source.match.isEmpty else { throw fail("\(field).match", "must match at least one input field") }
        var used: Set<String> = []
        for (name, match) in source.match.sorted(by: { $0.key < $1.key }) {
            let at = "\(field).match.\(name)"
            guard let property = properties[name] else { throw fail(at, "input property '\(name)' is not declared") }
            guard ["string", "integer", "boolean"].contains(property.type) else {
                throw fail(at, "input property '\(name)' must be a string, integer or boolean")
            }
            guard !match.fields.isEmpty else { throw fail("\(at).fields", "must name at least one field of \(dataset.name)") }
            for (index, path) in match.fields.enumerated() {
                try dottedPath(path, "\(at).fields[\(index)]")
                guard dataset.fields.contains(where: { path == $0 || path.hasPrefix($0 + ".") }) else {
                    throw fail("\(at).fields[\(index)]", "'\(path)' is not a field \(dataset.name) keeps (\(dataset.fields.joined(separator: ", ")))")
                }
            }
            used.insert(name)
        }
        if let limit = source.limitInput {
            guard properties[limit]?.type == "integer" else {
                throw fail("\(field).limitInput", "must name an integer input property of \(tool.name)")
            }
            guard source.match[limit] == nil else { throw fail("\(field).limitInput", "'\(limit)' is already a match field") }
            used.insert(limit)
        }
        for name in properties.keys.sorted() where !used.contains(name) {
            throw fail("\(toolField).input.properties.\(name)", "is not used by fromDataset (match or limitInput)")
        }
    }
}
