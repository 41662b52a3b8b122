import Foundation

/// The checks of a provider's `tools`: names, input schemas, request templates and mappings, scopes and results.
extension ProviderValidator {
    static let toolMethods: Set = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    static let propertyTypes: Set = ["string", "integer", "number", "boolean", "array"]
    static let itemTypes: Set = ["string", "integer", "number", "boolean"]

    func validateTools() throws {
        var seen: Set<String> = []
        for (index, tool) in (provider.tools ?? []).enumerated() {
            guard isToolName(tool.name) else {
                throw fail(
                    "tools[\(index)].name",
                    "'\(tool.name)' must be '\(provider.id).' followed by lowercase snake_case, e.g. \(provider.id).list_items"
                )
            }
            guard seen.insert(tool.name).inserted else {
                throw fail("tools[\(index)].name", "'\(tool.name)' is defined twice")
            }
            try validate(tool: tool, at: "tools[\(tool.name)]")
        }
    }

    private func isToolName(_ name: String) -> Bool {
        let prefix = provider.id + "."
        guard name.hasPrefix(prefix) else { return false }
        let rest = name.dropFirst(prefix.count)
        guard let first = rest.unicodeScalars.first, ("a"..."z").contains(first), rest.count <= 64 else { return false }
        return rest.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    private func validate(tool: Tool, at field: String) throws {
        try nonEmpty(tool.title, "\(field).title")
        try nonEmpty(tool.description, "\(field).description")
        guard tool.description.count >= 40 else {
            throw fail("\(field).description", "must tell a language model what the tool does, when to use it and what it returns")
        }
        try validate(input: tool.input, at: "\(field).input")
        for (index, scope) in tool.scopes.enumerated() where provider.oauth?.scopes[scope] == nil {
            throw fail("\(field).scopes[\(index)]", "scope '\(scope)' is not described in oauth.scopes")
        }
        if let source = tool.fromDataset {
            guard tool.request == nil else { throw fail("\(field).request", "a tool answers either from a request or from a dataset, not both") }
            return try validate(source: source, of: tool, at: field)
        }
        guard let request = tool.request else { throw fail("\(field).request", "is required (or fromDataset, for a tool that reads synced data)") }
        let properties = tool.input.properties
        var used: Set<String> = []

        guard Self.toolMethods.contains(request.method) else {
            throw fail("\(field).request.method", "must be GET, POST, PUT, PATCH or DELETE")
        }
        if tool.readOnly, request.method != "GET" {
            throw fail("\(field).readOnly", "can only be true for a GET request (this one is \(request.method))")
        }
        for name in try placeholders(in: request.path, at: "\(field).request.path") {
            guard let property = properties[name] else {
                throw fail("\(field).request.path", "placeholder {\(name)} is not an input property")
            }
            guard property.type == "string" || property.type == "integer" else {
                throw fail("\(field).request.path", "placeholder {\(name)} must be a string or integer property")
            }
            guard tool.input.required?.contains(name) == true else {
                throw fail("\(field).request.path", "placeholder {\(name)} must be a required input property")
            }
            used.insert(name)
        }
        for (parameter, input) in (request.query ?? [:]).sorted(by: { $0.key < $1.key }) {
            try nonEmpty(parameter, "\(field).request.query")
            guard properties[input] != nil else {
                throw fail("\(field).request.query.\(parameter)", "input property '\(input)' is not declared")
            }
            used.insert(input)
        }
        if let body = request.body {
            used.formUnion(try validate(body: body, method: request.method, properties: properties, at: "\(field).request.body"))
        }
        for name in properties.keys.sorted() where !used.contains(name) {
            throw fail("\(field).input.properties.\(name)", "is not used by the request (path, query or body)")
        }

        if let result = tool.result {
            for (index, path) in (result.fields ?? []).enumerated() {
                try dottedPath(path, "\(field).result.fields[\(index)]")
            }
            if let pagination = result.pagination {
                guard properties[pagination.cursorInput] != nil else {
                    throw fail("\(field).result.pagination.cursorInput", "input property '\(pagination.cursorInput)' is not declared")
                }
                try dottedPath(pagination.nextCursor, "\(field).result.pagination.nextCursor")
            }
        }
    }

    private func validate(input: ToolInputSchema, at field: String) throws {
        guard input.type == "object" else { throw fail("\(field).type", "must be object") }
        guard !input.additionalProperties else {
            throw fail("\(field).additionalProperties", "must be false: fields not described are refused")
        }
        var required: Set<String> = []
        for (index, name) in (input.required ?? []).enumerated() {
            guard input.properties[name] != nil else {
                throw fail("\(field).required[\(index)]", "'\(name)' is not one of the properties")
            }
            guard required.insert(name).inserted else { throw fail("\(field).required[\(index)]", "'\(name)' is named twice") }
        }
        for (name, property) in input.properties.sorted(by: { $0.key < $1.key }) {
            let at = "\(field).properties.\(name)"
            guard Self.isPropertyName(name) else { throw fail(at, "property names must be letters, digits or '_'") }
            try validate(property: property, at: at)
            if property.default != nil, required.contains(name) {
                throw fail("\(at).default", "a required property cannot have a default")
            }
        }
    }

    private func validate(property: ToolInputProperty, at field: String) throws {
        guard Self.propertyTypes.contains(property.type) else {
            throw fail("\(field).type", "must be string, integer, number, boolean or array")
        }
        try nonEmpty(property.description, "\(field).description")
        if let values = property.enum {
            guard property.type == "string" else { throw fail("\(field).enum", "is only for string properties") }
            guard !values.isEmpty, Set(values).count == values.count else {
                throw fail("\(field).enum", "must list distinct values")
            }
        }
        let numeric = property.type == "integer" || property.type == "number"
        if property.minimum != nil || property.maximum != nil {
            guard numeric else { throw fail("\(field).minimum", "minimum and maximum are only for integer and number properties") }
        }
        if let low = property.minimum, let high = property.maximum, low > high {
            throw fail("\(field).maximum", "must not be below the minimum")
        }
        if property.type == "array" {
            guard let items = property.items else { throw fail("\(field).items", "is required for an array") }
            guard Self.itemTypes.contains(items.type) else {
                throw fail("\(field).items.type", "must be string, integer, number or boolean")
            }
            if items.enum != nil, items.type != "string" { throw fail("\(field).items.enum", "is only for string items") }
        } else if property.items != nil {
            throw fail("\(field).items", "is only for arrays")
        }
        if let value = property.default {
            try check(default: value, of: property, at: "\(field).default")
        }
    }

    private func check(default value: ToolValue, of property: ToolInputProperty, at field: String) throws {
        let number: Double?
        switch (property.type, value) {
        case ("string", .string(let text)):
            if let values = property.enum, !values.contains(text) { throw fail(field, "'\(text)' is not one of the enum values") }
            number = nil
        case ("integer", .integer(let whole)): number = Double(whole)
        case ("number", .integer(let whole)): number = Double(whole)
        case ("number", .number(let real)): number = real
        case ("boolean", .bool): number = nil
        default: throw fail(field, "must be \(property.type == "integer" ? "an" : "a") \(property.type)")
        }
        if let number {
            if let low = property.minimum, number < low { throw fail(field, "is below the minimum") }
            if let high = property.maximum, number > high { throw fail(field, "is above the maximum") }
        }
    }

    /// Checks a body mapping; returns the input properties it uses.
    private func validate(body: ToolBody, method: String, properties: [String: ToolInputProperty], at field: String) throws -> Set<String> {
        guard method != "GET" else { throw fail(field, "a GET request has no body") }
        var used: Set<String> = []
        if body.encoding == .raw {
            guard let raw = body.rawField else { throw fail("\(field).rawField", "is required for the raw encoding") }
            guard properties[raw]?.type == "string" else {
                throw fail("\(field).rawField", "input property '\(raw)' must be a declared string property")
            }
            guard let type = body.contentType, type.contains("/") else {
                throw fail("\(field).contentType", "is required for the raw encoding, e.g. text/plain")
            }
            guard body.fields == nil, body.constants == nil else {
                throw fail(field, "a raw body takes neither fields nor constants")
            }
            return [raw]
        }
        if body.rawField != nil || body.contentType != nil {
            throw fail(field, "rawField and contentType are only for the raw encoding")
        }
        for (path, input) in (body.fields ?? [:]).sorted(by: { $0.key < $1.key }) {
            try dottedPath(path, "\(field).fields")
            if body.encoding == .form, path.contains(".") {
                throw fail("\(field).fields.\(path)", "a form body has no nested fields")
            }
            guard properties[input] != nil else {
                throw fail("\(field).fields.\(path)", "input property '\(input)' is not declared")
            }
            used.insert(input)
        }
        for path in (body.constants ?? [:]).keys.sorted() {
            try dottedPath(path, "\(field).constants")
            if body.fields?[path] != nil { throw fail("\(field).constants.\(path)", "is also mapped from an input field") }
        }
        return used
    }

    /// The `{name}` placeholders of a relative request path.
    private func placeholders(in path: String, at field: String) throws -> [String] {
        guard path.hasPrefix("/"), !path.hasPrefix("//") else { throw fail(field, "must be a path starting with '/'") }
        guard !path.contains("?"), !path.contains("#") else {
            throw fail(field, "must not hold a query or fragment; map query parameters in request.query")
        }
        guard !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
            throw fail(field, "must not contain '.' or '..' segments")
        }
        var names: [String] = []
        var rest = Substring(path)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { throw fail(field, "has an unclosed '{'") }
            let name = String(rest[rest.index(after: open)..<close])
            guard Self.isPropertyName(name) else { throw fail(field, "placeholder {\(name)} is not a property name") }
            names.append(name)
            rest = rest[rest.index(after: close)...]
        }
        guard !rest.contains("}") else { throw fail(field, "has an unmatched '}'") }
        return names
    }

    func dottedPath(_ path: String, _ field: String) throws {
        guard !path.isEmpty, path.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ !$0.isEmpty && !$0.contains(" ") })
        else {
            throw fail(field, "'\(path)' is not a dotted path like items.id")
        }
    }

    private static func isPropertyName(_ value: String) -> Bool {
        !value.isEmpty && value.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
    }
}
