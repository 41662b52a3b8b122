import LatchkeyConnect

extension ConnectForm {
    /// The `connect-form` template context; secrets are never echoed back into the form.
    func context(csrf: String, form: WebForm?, error: String?) -> [String: Any] {
        [
            "key": key,
            "name": serviceName,
            "intro": intro,
            "csrf": csrf,
            "reconnect": reconnect as Any,
            "error": error as Any,
            "fields": fields.map { field -> [String: Any] in
                [
                    "name": field.name,
                    "label": field.label,
                    "hint": field.hint as Any,
                    "type": field.isSecret ? "password" : "text",
                    "value": field.isSecret ? "" : (form?.trimmed(field.name) ?? ""),
                ]
            },
        ]
    }
}
