extension OpenAPIDocument {
    /// `/api/v1/integrations` and `/api/v1/providers`.
    static let integrationPaths = #"""
        {
          "/api/v1/credentials/token": {
            "post": {
              "operationId": "getAccessToken",
              "tags": ["Credentials"],
              "summary": "Get a fresh access token",
              "description": "Returns a usable access token: the credential named by `credentialId`, or the default credential of the end user `externalUserId` for the integration, else the integration's shared credential. When the token has expired or expires within 60 s it is refreshed first, exactly once across all instances (concurrent callers wait and get the same new token). Audited.",
              "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/TokenRequest"},
                "example": {"integration": "github", "externalUserId": "alice"}
              }}},
              "responses": {
                "200": {"description": "A usable access token.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenResponse"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"},
                "409": {"description": "`not_connected`, `needs_reauth` or `provider_revoked`: the person must connect or reconnect (`error.action`).",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "502": {"description": "`provider_unreachable`: the provider could not refresh the token and the old one has expired.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "503": {"description": "`provider_unavailable` (calls paused after repeated failures, see `Retry-After`) or `unavailable`.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
              }
            }
          },
          "/api/v1/connections": {
            "get": {
              "operationId": "listConnections",
              "tags": ["Integrations"],
              "summary": "List connections with their health",
              "description": "Each app × integration link with its health: `healthy`, `degraded` (more than 10% of its user credentials expired or needing reauthorization, or the provider probe failing now and then) or `unhealthy` (its shared credential unusable, at least half of its user credentials unusable, calls paused after repeated failures, the provider probe failing, or the integration's OAuth client refused), with reason codes and counts.",
              "responses": {
                "200": {"description": "The tenant's connections.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ConnectionList"}}}},
                "401": {"$ref": "#/components/responses/Unauthorized"}
              }
            },
            "post": {
              "operationId": "createConnection",
              "tags": ["Integrations"],
              "summary": "Create the console app's connection for an integration",
              "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"type": "object", "additionalProperties": false, "required": ["integration"], "properties": {"integration": {"type": "string"}}},
                "example": {"integration": "github"}
              }}},
              "responses": {
                "201": {"description": "The connection (an existing one is returned as it is).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Connection"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"}
              }
            }
          },
          "/api/v1/connections/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": true, "description": "The connection id.", "schema": {"type": "string", "format": "uuid"}}],
            "get": {
              "operationId": "getConnection",
              "tags": ["Integrations"],
              "summary": "Get a connection with its health",
              "responses": {
                "200": {"description": "The connection.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Connection"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}
              }
            }
          },
          "/api/v1/providers": {
            "get": {
              "operationId": "listProviders",
              "tags": ["Integrations"],
              "summary": "List the provider catalog",
              "description": "Every provider Latchkey knows, with its auth mode, its scopes in plain words and the settings a generic provider needs.",
              "parameters": [
                {"name": "authMode", "in": "query", "description": "Only providers with this auth mode.",
                 "schema": {"type": "string", "enum": ["oauth2", "oauth2_client_credentials", "api_key", "basic"]}}
              ],
              "responses": {
                "200": {"description": "The catalog.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProviderList"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"}
              }
            }
          },
          "/api/v1/integrations": {
            "post": {
              "operationId": "createIntegration",
              "tags": ["Integrations"],
              "summary": "Enable a provider for the tenant",
              "description": "Enables a catalog provider with the tenant's OAuth client. The client secret is stored encrypted and never returned. For the generic `oidc` provider, `settings.discoveryURL` is read and the endpoints it names are stored; for the generic `oauth2` provider the endpoints are given in `settings`. Register `redirectUri` of the answer at the provider.",
              "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/CreateIntegrationRequest"},
                "example": {"provider": "github", "clientId": "Iv1.8a61f9b3a7aba766", "clientSecret": "example-secret", "scopes": ["repo", "read:user"]}
              }}},
              "responses": {
                "201": {"description": "The integration.", "headers": {"Location": {"description": "The URL of the integration.", "schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Integration"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": {"$ref": "#/components/responses/Forbidden"},
                "409": {"$ref": "#/components/responses/Conflict"},
                "413": {"$ref": "#/components/responses/PayloadTooLarge"}
              }
            },
            "get": {
              "operationId": "listIntegrations",
              "tags": ["Integrations"],
              "summary": "List integrations",
              "responses": {
                "200": {"description": "The tenant's integrations.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IntegrationList"}}}},
                "401": {"$ref": "#/components/responses/Unauthorized"}
              }
            }
          },
          "/api/v1/integrations/{key}": {
            "parameters": [{"name": "key", "in": "path", "required": true, "description": "The integration key.", "schema": {"type": "string"}}],
            "get": {
              "operationId": "getIntegration",
              "tags": ["Integrations"],
              "summary": "Get an integration",
              "responses": {
                "200": {"description": "The integration.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Integration"}}}},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}
              }
            },
            "patch": {
              "operationId": "updateIntegration",
              "tags": ["Integrations"],
              "summary": "Change an integration",
              "description": "Changes the fields that are present; `null` removes `displayName` or the stored `clientSecret`. Changes apply to the next connect and refresh without a restart; a disabled integration disappears from the Connection Center.",
              "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/UpdateIntegrationRequest"},
                "example": {"enabled": false}
              }}},
              "responses": {
                "200": {"description": "The updated integration.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Integration"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"},
                "409": {"$ref": "#/components/responses/Conflict"}
              }
            },
            "delete": {
              "operationId": "deleteIntegration",
              "tags": ["Integrations"],
              "summary": "Delete an integration",
              "description": "Refused with 409 while accounts are still connected through it; disable it instead, or disconnect them first.",
              "responses": {
                "204": {"description": "Deleted."},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"},
                "409": {"$ref": "#/components/responses/Conflict"}
              }
            }
          }
        }
        """#

    /// The schemas those operations use.
    static let integrationSchemas = #"""
        {
          "TokenRequest": {
            "type": "object", "additionalProperties": false, "required": ["integration"],
            "properties": {
              "integration": {"type": "string"},
              "externalUserId": {"type": "string"},
              "credentialId": {"type": "string", "format": "uuid"}
            }
          },
          "TokenResponse": {
            "type": "object", "required": ["accessToken", "tokenType", "credentialId", "integration", "scopes"],
            "properties": {
              "accessToken": {"type": "string"},
              "tokenType": {"type": "string"},
              "expiresAt": {"type": ["string", "null"], "format": "date-time"},
              "credentialId": {"type": "string", "format": "uuid"},
              "integration": {"type": "string"},
              "scopes": {"type": "array", "items": {"type": "string"}}
            }
          },
          "CreateIntegrationRequest": {
            "type": "object", "additionalProperties": false, "required": ["provider"],
            "properties": {
              "provider": {"type": "string", "description": "A provider id from `GET /api/v1/providers`."},
              "key": {"type": "string", "pattern": "^[a-z0-9_-]{1,64}$", "description": "Unique per tenant; defaults to the provider id."},
              "displayName": {"type": "string", "maxLength": 100},
              "clientId": {"type": "string", "description": "The OAuth client id registered at the provider (OAuth providers)."},
              "clientSecret": {"type": "string", "writeOnly": true, "description": "Stored encrypted, never returned."},
              "scopes": {"type": "array", "items": {"type": "string"}, "description": "Scopes to request; empty for the provider's defaults."},
              "enabled": {"type": "boolean", "default": true},
              "settings": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Settings of a generic provider (its endpoints, or an OIDC discovery URL)."}
            }
          },
          "UpdateIntegrationRequest": {
            "type": "object", "additionalProperties": false,
            "properties": {
              "displayName": {"type": ["string", "null"]},
              "clientId": {"type": ["string", "null"]},
              "clientSecret": {"type": ["string", "null"], "writeOnly": true},
              "scopes": {"type": "array", "items": {"type": "string"}},
              "enabled": {"type": "boolean"},
              "settings": {"type": "object", "additionalProperties": {"type": "string"}}
            }
          },
          "Integration": {
            "type": "object",
            "required": ["key", "provider", "displayName", "enabled", "hasClientSecret", "scopes", "effectiveScopes", "settings", "createdAt", "updatedAt"],
            "properties": {
              "key": {"type": "string"},
              "provider": {"type": "string"},
              "displayName": {"type": "string"},
              "authMode": {"type": "string"},
              "enabled": {"type": "boolean"},
              "clientId": {"type": "string"},
              "hasClientSecret": {"type": "boolean"},
              "scopes": {"type": "array", "items": {"type": "string"}},
              "effectiveScopes": {"type": "array", "items": {"type": "string"}, "description": "What is requested at connect time."},
              "settings": {"type": "object", "additionalProperties": {"type": "string"}},
              "redirectUri": {"type": "string", "description": "The callback URL to register at the provider."},
              "status": {"type": "string", "enum": ["ok", "misconfigured"], "description": "`misconfigured` when the provider refused the OAuth client; fix `clientId`/`clientSecret`."},
              "statusReason": {"type": ["string", "null"]},
              "createdAt": {"type": "string", "format": "date-time"},
              "updatedAt": {"type": "string", "format": "date-time"}
            }
          },
          "IntegrationList": {
            "type": "object", "required": ["items", "nextCursor"],
            "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Integration"}}, "nextCursor": {"type": ["string", "null"]}}
          },
          "Provider": {
            "type": "object", "required": ["id", "displayName", "categories", "authMode", "docsURL", "scopes", "settings"],
            "properties": {
              "id": {"type": "string"},
              "displayName": {"type": "string"},
              "categories": {"type": "array", "items": {"type": "string"}},
              "authMode": {"type": "string"},
              "docsURL": {"type": "string"},
              "pkce": {"type": "boolean"},
              "refreshTokens": {"type": "boolean"},
              "scopes": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "description": {"type": "string"}, "isDefault": {"type": "boolean"}}}},
              "settings": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "description": {"type": "string"}, "required": {"type": "boolean"}}}}
            }
          },
          "Connection": {
            "type": "object", "required": ["id", "integration", "appId", "createdAt", "health", "reasons", "counts", "integrationStatus"],
            "properties": {
              "id": {"type": "string", "format": "uuid"},
              "integration": {"type": "string"},
              "appId": {"type": "string"},
              "createdAt": {"type": "string", "format": "date-time"},
              "health": {"type": "string", "enum": ["healthy", "degraded", "unhealthy"]},
              "reasons": {"type": "array", "items": {"type": "string"}},
              "counts": {"type": "object", "properties": {
                "active": {"type": "integer"}, "expired": {"type": "integer"}, "needsReauth": {"type": "integer"}, "sharedUsable": {"type": "boolean"}}},
              "integrationStatus": {"type": "string"},
              "probe": {"type": "object", "properties": {
                "result": {"type": "string", "enum": ["healthy", "unauthorized", "failing"]}, "reason": {"type": "string"},
                "checkedAt": {"type": "string", "format": "date-time"}}}
            }
          },
          "ConnectionList": {
            "type": "object", "required": ["items", "nextCursor"],
            "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Connection"}}, "nextCursor": {"type": ["string", "null"]}}
          },
          "ProviderList": {
            "type": "object", "required": ["items", "nextCursor"],
            "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Provider"}}, "nextCursor": {"type": ["string", "null"]}}
          }
        }
        """#
}
