extension OpenAPIDocument {
    /// `/api/v1/webhooks` and its deliveries.
    static let webhookPaths = #"""
        {
          "/api/v1/webhooks": {
            "put": {
              "operationId": "setWebhook",
              "tags": ["Webhooks"],
              "summary": "Set the tenant's webhook endpoint",
              "description": "Sets the URL that receives the tenant's events (`credential.created`, `credential.needs_reauth`, `credential.revoked`, `credential.deleted`, `connection.health_changed`, `integration.misconfigured`). The first call creates a 256-bit signing secret (`whsec_…`) and returns it in `secret` — the only time it is shown. Changing only the URL keeps the secret; `rotateSecret: true` makes a new one (shown once). Every delivery is a POST of the event JSON with `Latchkey-Signature: t=<unix seconds>,v1=<hex HMAC-SHA-256(secret, \"<t>.<body>\")>`, `Latchkey-Event` and `Latchkey-Delivery` headers; a 2xx answer acknowledges it, anything else is retried with backoff for 24 hours. The URL must be https, must not contain spaces or control characters, and must not point at a loopback, private, link-local or other non-public address in any form (`0x7f000001`, `::ffff:10.0.0.1`, NAT64, 6to4, `localhost.localdomain`; unless the server runs with `--allow-private-network`); the 400 answer names `url` and says why. A name is resolved and checked again at every send; a delivery the policy refuses is dead-lettered at once with the reason in `lastError`.",
              "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/SetWebhookRequest"},
                "example": {"url": "https://hooks.example.com/latchkey"}
              }}},
              "responses": {
                "200": {"description": "The endpoint was changed; `secret` only when it was rotated.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookEndpoint"}}}},
                "201": {"description": "The endpoint was created; `secret` is shown this once.",
                        "headers": {"Location": {"description": "The URL of the endpoint.", "schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookEndpoint"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": {"$ref": "#/components/responses/Forbidden"},
                "409": {"$ref": "#/components/responses/Conflict"},
                "413": {"$ref": "#/components/responses/PayloadTooLarge"}
              }
            },
            "get": {
              "operationId": "getWebhook",
              "tags": ["Webhooks"],
              "summary": "Get the tenant's webhook endpoint",
              "description": "The URL and dates; the signing secret is never returned here.",
              "responses": {
                "200": {"description": "The endpoint.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookEndpoint"}}}},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}
              }
            },
            "delete": {
              "operationId": "deleteWebhook",
              "tags": ["Webhooks"],
              "summary": "Remove the tenant's webhook endpoint",
              "description": "No further events are queued. Deliveries still waiting are dead-lettered; they can be replayed once an endpoint is set again.",
              "responses": {
                "204": {"description": "Removed."},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}
              }
            }
          },
          "/api/v1/webhooks/deliveries": {
            "get": {
              "operationId": "listWebhookDeliveries",
              "tags": ["Webhooks"],
              "summary": "List webhook deliveries",
              "description": "Every queued event with its delivery state, newest first.",
              "parameters": [
                {"name": "status", "in": "query", "description": "Only deliveries in this state.",
                 "schema": {"$ref": "#/components/schemas/WebhookDeliveryStatus"}},
                {"$ref": "#/components/parameters/Limit"},
                {"$ref": "#/components/parameters/Cursor"}
              ],
              "responses": {
                "200": {"description": "A page of deliveries.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookDeliveryList"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"}
              }
            }
          },
          "/api/v1/webhooks/deliveries/{id}/replay": {
            "parameters": [{"name": "id", "in": "path", "required": true, "description": "The delivery id.", "schema": {"type": "string", "format": "uuid"}}],
            "post": {
              "operationId": "replayWebhookDelivery",
              "tags": ["Webhooks"],
              "summary": "Send a delivery again",
              "description": "Queues the delivery again at once, whatever its state (dead ones included), with a fresh 24-hour retry window. The event keeps its id, so receivers can tell a replay from a new event.",
              "responses": {
                "202": {"description": "Queued.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookDelivery"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"},
                "409": {"$ref": "#/components/responses/Conflict"}
              }
            }
          }
        }
        """#

    /// The schemas those operations use.
    static let webhookSchemas = #"""
        {
          "SetWebhookRequest": {
            "type": "object", "additionalProperties": false, "required": ["url"],
            "properties": {
              "url": {"type": "string", "format": "uri", "maxLength": 2048, "description": "An https URL."},
              "rotateSecret": {"type": "boolean", "default": false, "description": "Make a new signing secret (returned once)."}
            }
          },
          "WebhookEndpoint": {
            "type": "object", "required": ["url", "events", "createdAt", "updatedAt"],
            "properties": {
              "url": {"type": "string"},
              "events": {"type": "array", "items": {"type": "string"}, "description": "The event types sent to it."},
              "createdAt": {"type": "string", "format": "date-time"},
              "updatedAt": {"type": "string", "format": "date-time"},
              "secret": {"type": "string", "description": "The signing secret (`whsec_…`); only in the answer that created or rotated it."}
            }
          },
          "WebhookDeliveryStatus": {"type": "string", "enum": ["pending", "delivered", "failed", "dead"]},
          "WebhookEvent": {
            "type": "object", "required": ["id", "type", "createdAt", "tenant", "data"],
            "description": "The body of a delivery. `data` carries ids, the integration key, statuses and reasons — never a secret.",
            "properties": {
              "id": {"type": "string", "description": "`evt_…`; the same on every attempt and replay."},
              "type": {"type": "string", "enum": ["credential.created", "credential.needs_reauth", "credential.revoked", "credential.deleted", "connection.health_changed", "integration.misconfigured"]},
              "createdAt": {"type": "string", "format": "date-time"},
              "tenant": {"type": "string"},
              "data": {"type": "object"}
            }
          },
          "WebhookDelivery": {
            "type": "object", "required": ["id", "eventId", "type", "status", "attempts", "createdAt", "event"],
            "properties": {
              "id": {"type": "string", "format": "uuid", "description": "Sent as `Latchkey-Delivery`."},
              "eventId": {"type": "string"},
              "type": {"type": "string"},
              "status": {"$ref": "#/components/schemas/WebhookDeliveryStatus"},
              "attempts": {"type": "integer"},
              "createdAt": {"type": "string", "format": "date-time"},
              "nextAttemptAt": {"type": "string", "format": "date-time", "description": "When it is sent next (pending and failed ones)."},
              "lastAttemptAt": {"type": "string", "format": "date-time"},
              "lastStatusCode": {"type": "integer", "description": "The HTTP status of the last answer, if there was one."},
              "lastError": {"type": "string", "description": "What went wrong last, in plain words."},
              "deliveredAt": {"type": "string", "format": "date-time"},
              "event": {"$ref": "#/components/schemas/WebhookEvent"}
            }
          },
          "WebhookDeliveryList": {
            "type": "object", "required": ["items", "nextCursor"],
            "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookDelivery"}}, "nextCursor": {"type": ["string", "null"]}}
          }
        }
        """#
}
