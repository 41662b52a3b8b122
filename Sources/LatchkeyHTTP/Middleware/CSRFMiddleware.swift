import Hummingbird

/// Refuses every state-changing request (POST, PUT, PATCH, DELETE) whose form does not carry the token its page was
/// rendered with, compared in constant time, before any handler runs. Form routes are registered on a group with
/// this middleware, so no handler can forget the check. The form stays readable by the handler.
struct CSRFMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The form field that carries the token.
    var field = "csrf_token"
    /// The token this request must carry; nil refuses every form.
    let expected: @Sendable (Context) -> String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard [.post, .put, .patch, .delete].contains(request.method) else { return try await next(request, context) }
        var request = request
        let form = try await WebForm.collect(&request)
        try form.requireCSRF(expected(context) ?? "", field: field)
        return try await next(request, context)
    }
}
