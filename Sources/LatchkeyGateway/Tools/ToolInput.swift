public import LatchkeyCore
public import LatchkeyOAuthClient
public import LatchkeyProviders

/// A tool's input checked against its schema (``ToolInputSchema``), with the defaults of the fields left out filled
/// in. Every problem is reported at once, each naming its field (`input.owner: is required`).
public struct ToolInput: Sendable, Equatable {
    /// The given fields and the defaults, by name.
    public var values: [String: JSONValue]

    /// Checks `input` (nil when the caller sent none: an empty object) against `tool`'s schema.
    public init(_ input: JSONValue?, for tool: Tool) throws(LatchkeyError) {
        let schema = tool.input
        var problems: [LatchkeyError.FieldError] = []
        var values: [String: JSONValue] = [:]
        let given: [String: JSONValue]
        switch input {
        case nil, .null?: given = [:]
        case .object(let members)?: given = members
        default:
            throw LatchkeyError.invalidRequest(
                "The input of \(tool.name) must be a JSON object of its fields.",
                fields: [.init(path: "input", message: "must be an object")]
            )
        }
        for name in given.keys.sorted() where schema.properties[name] == nil {
            let known = schema.properties.keys.sorted()
            let hint = known.isEmpty ? "this tool takes no input" : "known fields: \(known.joined(separator: ", "))"
            problems.append(.init(path: "input.\(FieldName.safe(name))", message: "is not a field of this tool (\(hint))"))
        }
        let required = Set(schema.required ?? [])
        for (name, property) in schema.properties.sorted(by: { $0.key < $1.key }) {
            guard let value = given[name], value != .null else {
                if required.contains(name) {
                    problems.append(.init(path: "input.\(name)", message: "is required"))
                } else if let fallback = property.default {
                    values[name] = fallback.json
                }
                continue
            }
            if let problem = Self.problem(value, property) {
                problems.append(.init(path: "input.\(name)", message: problem))
            } else {
                values[name] = value
            }
        }
        guard problems.isEmpty else {
            let listed = problems.map { "\($0.path): \($0.message)" }.joined(separator: "; ")
            throw LatchkeyError.invalidRequest("The input of \(tool.name) is not valid: \(listed).", fields: problems)
        }
        self.values = values
    }

    /// Why `value` does not fit `property`, in plain words; nil when it does.
    static func problem(_ value: JSONValue, _ property: ToolInputProperty) -> String? {
        if property.type == "array" {
            guard case .array(let elements) = value else { return "must be an array" }
            let items = property.items
            for (index, element) in elements.enumerated() {
                if let problem = scalarProblem(element, type: items?.type ?? "string", allowed: items?.enum, minimum: nil, maximum: nil) {
                    return "element \(index) \(problem)"
                }
            }
            return nil
        }
        return scalarProblem(value, type: property.type, allowed: property.enum, minimum: property.minimum, maximum: property.maximum)
    }

    private static func scalarProblem(_ value: JSONValue, type: String, allowed: [String]?, minimum: Double?, maximum: Double?) -> String? {
        let number: Double
        switch (type, value) {
        case ("string", .string(let text)):
            if let allowed, !allowed.contains(text) { return "must be one of \(allowed.joined(separator: ", "))" }
            return nil
        case ("string", _): return "must be a string"
        case ("boolean", .bool): return nil
        case ("boolean", _): return "must be true or false"
        case ("integer", .integer(let whole)): number = Double(whole)
        case ("integer", .unsigned(let whole)): number = Double(whole)
        case ("integer", .double(let real)) where real.isFinite && real == real.rounded() && abs(real) < 1e15: number = real
        case ("integer", _): return "must be a whole number"
        case ("number", .integer(let whole)): number = Double(whole)
        case ("number", .unsigned(let whole)): number = Double(whole)
        case ("number", .double(let real)) where real.isFinite: number = real
        case ("number", _): return "must be a number"
        default: return "has a type this tool does not take"
        }
        if let minimum, number < minimum { return "must be at least \(plain(minimum))" }
        if let maximum, number > maximum { return "must be at most \(plain(maximum))" }
        return nil
    }

    /// `100` rather than `100.0`.
    static func plain(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}

extension ToolValue {
    /// The value as JSON.
    var json: JSONValue {
        switch self {
        case .string(let value): .string(value)
        case .integer(let value): .integer(Int64(value))
        case .number(let value): .double(value)
        case .bool(let value): .bool(value)
        }
    }
}
