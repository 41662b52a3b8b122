/// The OpenAPI 3.1 description of `/api/v1`, served at `/openapi.json`.
public enum OpenAPIDocument {
    public static let json = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "Latchkey API",
            "version": "0.1.0",
            "description": "Latchkey is a self-hosted credential vault: it stores OAuth tokens, API keys and username/password pairs encrypted at rest, hands them out only when asked to reveal them, and records every access in a tamper-evident audit log. The admin endpoints under `/api/v1` authenticate with a tenant admin key sent as `Authorization: Bearer lk_live_…`. Every error is a JSON object with a stable `code`, a plain-language `message` and the `requestId` of the request."
          },
          "servers": [
            {
              "url": "/"
            }
          ],
          "security": [
            {
              "bearerAuth": []
            }
          ],
          "tags": [
            {
              "name": "Credentials",
              "description": "Stored credentials and their secrets."
            },
            {
              "name": "Audit",
              "description": "The tenant's hash-chained audit log."
            }
          ],
          "paths": {
            "/api/v1/credentials": {
              "post": {
                "operationId": "createCredential",
                "tags": [
                  "Credentials"
                ],
                "summary": "Store a credential",
                "description": "Stores a credential under the console app's connection for the integration (or under `connectionId`), owned by the end user named by `externalUserId` or shared when it is absent. The integration, connection and end user are created on first use. The first credential of an owner becomes its default. An `oauth2` credential needs `accessToken`, an `api_key` credential needs `apiKey`, and a `basic` credential needs `username` and `password`. All problems are reported at once in `error.fields`.",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/CreateCredentialRequest"
                      },
                      "example": {
                        "integration": "github",
                        "externalUserId": "user-42",
                        "type": "oauth2",
                        "accessToken": "gho_exampletoken",
                        "refreshToken": "ghr_exampletoken",
                        "expiresAt": "2025-07-01T12:00:00Z",
                        "scopes": [
                          "repo",
                          "read:org"
                        ],
                        "label": "Alice's GitHub"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "The credential was stored. The secret is not returned.",
                    "headers": {
                      "Location": {
                        "description": "The URL of the new credential.",
                        "schema": {
                          "type": "string",
                          "example": "/api/v1/credentials/0b9d3c52-6f43-4b8e-9a55-3f7f2d1c8e10"
                        }
                      }
                    },
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Credential"
                        },
                        "example": {
                          "id": "0b9d3c52-6f43-4b8e-9a55-3f7f2d1c8e10",
                          "integration": "github",
                          "connectionId": "5e2f8a9b-1c4d-4e6f-8a7b-9c0d1e2f3a4b",
                          "externalUserId": "user-42",
                          "type": "oauth2",
                          "status": "active",
                          "label": "Alice's GitHub",
                          "isDefault": true,
                          "scopes": [
                            "repo",
                            "read:org"
                          ],
                          "expiresAt": "2025-07-01T12:00:00Z",
                          "providerAccount": "alice@example.com",
                          "connectionConfig": {},
                          "keyVersion": 1,
                          "version": 1,
                          "connectedAt": "2025-06-01T12:00:00Z",
                          "createdAt": "2025-06-01T12:00:00Z",
                          "updatedAt": "2025-06-01T12:00:00Z"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "413": {
                    "$ref": "#/components/responses/PayloadTooLarge"
                  }
                }
              },
              "get": {
                "operationId": "listCredentials",
                "tags": [
                  "Credentials"
                ],
                "summary": "List credentials",
                "description": "Lists the tenant's credentials, page by page. Secrets are never included.",
                "parameters": [
                  {
                    "name": "integration",
                    "in": "query",
                    "description": "Only credentials of this integration key.",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "externalUserId",
                    "in": "query",
                    "description": "Only credentials owned by this end user.",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "connectionId",
                    "in": "query",
                    "description": "Only credentials under this connection.",
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  },
                  {
                    "name": "status",
                    "in": "query",
                    "description": "Only credentials with this status.",
                    "schema": {
                      "$ref": "#/components/schemas/CredentialStatus"
                    }
                  },
                  {
                    "$ref": "#/components/parameters/Limit"
                  },
                  {
                    "$ref": "#/components/parameters/Cursor"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "One page of credentials.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/CredentialList"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  }
                }
              }
            },
            "/api/v1/credentials/{id}": {
              "parameters": [
                {
                  "$ref": "#/components/parameters/CredentialId"
                }
              ],
              "get": {
                "operationId": "getCredential",
                "tags": [
                  "Credentials"
                ],
                "summary": "Get a credential",
                "description": "Returns a credential's metadata. The secret is not included; use the reveal operation for it.",
                "responses": {
                  "200": {
                    "description": "The credential.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Credential"
                        },
                        "example": {
                          "id": "0b9d3c52-6f43-4b8e-9a55-3f7f2d1c8e10",
                          "integration": "github",
                          "connectionId": "5e2f8a9b-1c4d-4e6f-8a7b-9c0d1e2f3a4b",
                          "externalUserId": "user-42",
                          "type": "oauth2",
                          "status": "active",
                          "label": "Alice's GitHub",
                          "isDefault": true,
                          "scopes": [
                            "repo",
                            "read:org"
                          ],
                          "expiresAt": "2025-07-01T12:00:00Z",
                          "providerAccount": "alice@example.com",
                          "connectionConfig": {},
                          "keyVersion": 1,
                          "version": 1,
                          "connectedAt": "2025-06-01T12:00:00Z",
                          "createdAt": "2025-06-01T12:00:00Z",
                          "updatedAt": "2025-06-01T12:00:00Z"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                }
              },
              "patch": {
                "operationId": "updateCredential",
                "tags": [
                  "Credentials"
                ],
                "summary": "Update a credential",
                "description": "Changes the fields that are present and leaves the others as they are. Secret fields replace the stored ones. `isDefault` can only be set to `true`; it makes this credential its owner's default and clears the flag on the others. The change is audited with fingerprints of any new secret values.",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/UpdateCredentialRequest"
                      },
                      "example": {
                        "label": "Alice's GitHub (work)",
                        "accessToken": "gho_newexampletoken",
                        "expiresAt": "2025-08-01T12:00:00Z"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The updated credential.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Credential"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "413": {
                    "$ref": "#/components/responses/PayloadTooLarge"
                  }
                }
              },
              "delete": {
                "operationId": "deleteCredential",
                "tags": [
                  "Credentials"
                ],
                "summary": "Delete a credential",
                "description": "Revokes the credential at the provider when the provider supports it (best effort: a failed revocation does not stop the deletion) and deletes it at once. The deletion is audited.",
                "responses": {
                  "204": {
                    "description": "The credential was deleted."
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                }
              }
            },
            "/api/v1/credentials/{id}/reveal": {
              "parameters": [
                {
                  "$ref": "#/components/parameters/CredentialId"
                }
              ],
              "post": {
                "operationId": "revealCredential",
                "tags": [
                  "Credentials"
                ],
                "summary": "Reveal a credential's secret",
                "description": "Decrypts and returns the credential's secret together with its metadata. Every reveal is audited (`credential.reveal`), with fingerprints of the secret values, never the values themselves. If the stored ciphertext was altered or its key is unavailable, nothing is returned, the failure is audited and the answer is a 500 with code `decryption_failed`.",
                "responses": {
                  "200": {
                    "description": "The credential and its secret.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/RevealResponse"
                        },
                        "example": {
                          "credential": {
                            "id": "0b9d3c52-6f43-4b8e-9a55-3f7f2d1c8e10",
                            "integration": "github",
                            "connectionId": "5e2f8a9b-1c4d-4e6f-8a7b-9c0d1e2f3a4b",
                            "externalUserId": "user-42",
                            "type": "oauth2",
                            "status": "active",
                            "label": "Alice's GitHub",
                            "isDefault": true,
                            "scopes": [
                              "repo",
                              "read:org"
                            ],
                            "expiresAt": "2025-07-01T12:00:00Z",
                            "providerAccount": "alice@example.com",
                            "connectionConfig": {},
                            "keyVersion": 1,
                            "version": 1,
                            "connectedAt": "2025-06-01T12:00:00Z",
                            "createdAt": "2025-06-01T12:00:00Z",
                            "updatedAt": "2025-06-01T12:00:00Z"
                          },
                          "secret": {
                            "accessToken": "gho_exampletoken",
                            "refreshToken": "ghr_exampletoken",
                            "tokenType": "bearer"
                          }
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "500": {
                    "$ref": "#/components/responses/DecryptionFailed"
                  }
                }
              }
            },
            "/api/v1/audit": {
              "get": {
                "operationId": "listAuditEvents",
                "tags": [
                  "Audit"
                ],
                "summary": "List audit events",
                "description": "Lists the tenant's audit events, newest first, page by page.",
                "parameters": [
                  {
                    "$ref": "#/components/parameters/Limit"
                  },
                  {
                    "name": "cursor",
                    "in": "query",
                    "description": "The `nextCursor` of the previous page.",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "action",
                    "in": "query",
                    "description": "Only events with this action, e.g. `credential.reveal`.",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "One page of audit events, newest first.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/AuditEventList"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  }
                }
              }
            },
            "/api/v1/audit/export": {
              "get": {
                "operationId": "exportAuditEvents",
                "tags": [
                  "Audit"
                ],
                "summary": "Export the audit log",
                "description": "Streams the tenant's whole audit chain, oldest first, as a file download: JSON lines (one event per line, keys sorted) or CSV with the columns seq, id, timestamp, tenant_id, actor, action, target, service, tool, result, ip, user_agent, details, prev_hash, hash. The hashes let the chain be verified offline.",
                "parameters": [
                  {
                    "name": "format",
                    "in": "query",
                    "description": "The file format.",
                    "schema": {
                      "type": "string",
                      "enum": [
                        "jsonl",
                        "csv"
                      ],
                      "default": "jsonl"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The audit log as a file.",
                    "headers": {
                      "Content-Disposition": {
                        "description": "Always an attachment named `latchkey-audit.jsonl` or `latchkey-audit.csv`.",
                        "schema": {
                          "type": "string"
                        }
                      }
                    },
                    "content": {
                      "application/x-ndjson": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "text/csv": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  }
                }
              }
            }
          },
          "components": {
            "securitySchemes": {
              "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "lk_live_…",
                "description": "A tenant admin key: `Authorization: Bearer lk_live_…`. App keys (`lk_app_…`) are refused with 403."
              }
            },
            "parameters": {
              "CredentialId": {
                "name": "id",
                "in": "path",
                "required": true,
                "description": "The credential id.",
                "schema": {
                  "type": "string",
                  "format": "uuid"
                }
              },
              "Limit": {
                "name": "limit",
                "in": "query",
                "description": "The page size.",
                "schema": {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 200,
                  "default": 50
                }
              },
              "Cursor": {
                "name": "cursor",
                "in": "query",
                "description": "The `nextCursor` of the previous page.",
                "schema": {
                  "type": "string"
                }
              }
            },
            "responses": {
              "BadRequest": {
                "description": "The request is not valid (`invalid_request`); `error.fields` names each problem.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    },
                    "example": {
                      "error": {
                        "code": "invalid_request",
                        "message": "The request is not valid: limit must be a whole number from 1 to 200.",
                        "fields": [
                          {
                            "path": "limit",
                            "message": "must be a whole number from 1 to 200"
                          }
                        ],
                        "requestId": "req_01hzx8k3"
                      }
                    }
                  }
                }
              },
              "Unauthorized": {
                "description": "The API key is missing, malformed, unknown or revoked (`unauthorized`).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    },
                    "example": {
                      "error": {
                        "code": "unauthorized",
                        "message": "The API key is not valid or was revoked.",
                        "requestId": "req_01hzx8k3"
                      }
                    }
                  }
                }
              },
              "Forbidden": {
                "description": "The key may not use this endpoint, e.g. an app key on an admin endpoint (`forbidden`).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "NotFound": {
                "description": "Nothing was found with that id (`not_found`).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    },
                    "example": {
                      "error": {
                        "code": "not_found",
                        "message": "No credential was found with that id.",
                        "requestId": "req_01hzx8k3"
                      }
                    }
                  }
                }
              },
              "Conflict": {
                "description": "The request conflicts with the current state, e.g. a concurrent change (`conflict`).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "PayloadTooLarge": {
                "description": "The request body is too large (`payload_too_large`).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "DecryptionFailed": {
                "description": "A stored secret could not be decrypted (`decryption_failed`): it was altered or its key is not available. Nothing was returned; the event was recorded in the audit log.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    },
                    "example": {
                      "error": {
                        "code": "decryption_failed",
                        "message": "A stored secret could not be decrypted: it was altered or its key is not available. Nothing was returned; the event was recorded in the audit log.",
                        "requestId": "req_01hzx8k3"
                      }
                    }
                  }
                }
              }
            },
            "schemas": {
              "CredentialType": {
                "type": "string",
                "enum": [
                  "oauth2",
                  "api_key",
                  "basic"
                ]
              },
              "CredentialStatus": {
                "type": "string",
                "enum": [
                  "active",
                  "expired",
                  "revoked",
                  "needs_reauth"
                ]
              },
              "CreateCredentialRequest": {
                "type": "object",
                "required": [
                  "integration",
                  "type"
                ],
                "additionalProperties": false,
                "properties": {
                  "integration": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 64,
                    "pattern": "^[A-Za-z0-9._-]+$",
                    "description": "The integration key, e.g. `github`."
                  },
                  "externalUserId": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 255,
                    "description": "Your id for the end user who owns the credential; absent for a shared credential."
                  },
                  "connectionId": {
                    "type": "string",
                    "format": "uuid",
                    "description": "A connection of the same integration; by default the console app's connection."
                  },
                  "type": {
                    "$ref": "#/components/schemas/CredentialType"
                  },
                  "accessToken": {
                    "type": "string",
                    "description": "Required for `oauth2`. At most 64 KiB."
                  },
                  "refreshToken": {
                    "type": "string",
                    "description": "At most 64 KiB."
                  },
                  "tokenType": {
                    "type": "string"
                  },
                  "idToken": {
                    "type": "string",
                    "description": "At most 64 KiB."
                  },
                  "apiKey": {
                    "type": "string",
                    "description": "Required for `api_key`. At most 64 KiB."
                  },
                  "username": {
                    "type": "string",
                    "description": "Required for `basic`."
                  },
                  "password": {
                    "type": "string",
                    "description": "Required for `basic`. At most 64 KiB."
                  },
                  "expiresAt": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "scopes": {
                    "type": "array",
                    "maxItems": 500,
                    "items": {
                      "type": "string",
                      "minLength": 1,
                      "maxLength": 500
                    }
                  },
                  "label": {
                    "type": "string",
                    "maxLength": 200
                  },
                  "providerAccount": {
                    "type": "string",
                    "description": "Who the credential is at the provider, e.g. alice@company.com."
                  },
                  "connectionConfig": {
                    "type": "object",
                    "maxProperties": 50,
                    "additionalProperties": {
                      "type": "string"
                    }
                  }
                }
              },
              "UpdateCredentialRequest": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                  "label": {
                    "type": "string",
                    "maxLength": 200
                  },
                  "scopes": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    }
                  },
                  "expiresAt": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "isDefault": {
                    "type": "boolean",
                    "const": true,
                    "description": "Only `true` is accepted: it makes this credential its owner's default."
                  },
                  "providerAccount": {
                    "type": "string"
                  },
                  "accessToken": {
                    "type": "string"
                  },
                  "refreshToken": {
                    "type": "string"
                  },
                  "apiKey": {
                    "type": "string"
                  },
                  "username": {
                    "type": "string"
                  },
                  "password": {
                    "type": "string"
                  }
                }
              },
              "Credential": {
                "type": "object",
                "description": "A credential's metadata. It never contains a secret. Optional fields are omitted when unset.",
                "required": [
                  "id",
                  "integration",
                  "connectionId",
                  "type",
                  "status",
                  "isDefault",
                  "scopes",
                  "connectionConfig",
                  "keyVersion",
                  "version",
                  "connectedAt",
                  "createdAt",
                  "updatedAt"
                ],
                "properties": {
                  "id": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "integration": {
                    "type": "string",
                    "description": "The integration key."
                  },
                  "connectionId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "externalUserId": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "The owning end user; absent for a shared credential."
                  },
                  "type": {
                    "$ref": "#/components/schemas/CredentialType"
                  },
                  "status": {
                    "$ref": "#/components/schemas/CredentialStatus"
                  },
                  "statusReason": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "label": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "isDefault": {
                    "type": "boolean"
                  },
                  "scopes": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    }
                  },
                  "expiresAt": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "format": "date-time"
                  },
                  "providerAccount": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "connectionConfig": {
                    "type": "object",
                    "additionalProperties": {
                      "type": "string"
                    }
                  },
                  "keyVersion": {
                    "type": "integer",
                    "description": "The version of the key the secret is encrypted under."
                  },
                  "version": {
                    "type": "integer",
                    "description": "The row version; it grows with every change."
                  },
                  "connectedAt": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "lastRefreshedAt": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "format": "date-time"
                  },
                  "lastUsedAt": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "format": "date-time"
                  },
                  "createdAt": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "updatedAt": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "CredentialSecret": {
                "type": "object",
                "description": "The secret part of a credential. Only the fields that are set are present.",
                "properties": {
                  "accessToken": {
                    "type": "string"
                  },
                  "refreshToken": {
                    "type": "string"
                  },
                  "tokenType": {
                    "type": "string"
                  },
                  "idToken": {
                    "type": "string"
                  },
                  "apiKey": {
                    "type": "string"
                  },
                  "username": {
                    "type": "string"
                  },
                  "password": {
                    "type": "string"
                  }
                }
              },
              "CredentialList": {
                "type": "object",
                "required": [
                  "items",
                  "nextCursor"
                ],
                "properties": {
                  "items": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Credential"
                    }
                  },
                  "nextCursor": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "Pass as `cursor` for the next page; null on the last page."
                  }
                }
              },
              "RevealResponse": {
                "type": "object",
                "required": [
                  "credential",
                  "secret"
                ],
                "properties": {
                  "credential": {
                    "$ref": "#/components/schemas/Credential"
                  },
                  "secret": {
                    "$ref": "#/components/schemas/CredentialSecret"
                  }
                }
              },
              "AuditEvent": {
                "type": "object",
                "description": "One link of the tenant's hash chain. Secrets appear only as fingerprints.",
                "required": [
                  "seq",
                  "id",
                  "timestamp",
                  "actor",
                  "action",
                  "result",
                  "details",
                  "prevHash",
                  "hash"
                ],
                "properties": {
                  "seq": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "The event's position in the tenant's chain."
                  },
                  "id": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "timestamp": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "actor": {
                    "type": "string",
                    "description": "Who acted, e.g. `admin_key:<id>`."
                  },
                  "action": {
                    "type": "string",
                    "description": "What happened, e.g. `credential.create`, `credential.reveal`, `credential.update`, `credential.delete`."
                  },
                  "target": {
                    "type": "string",
                    "description": "The id of what was acted on."
                  },
                  "service": {
                    "type": "string",
                    "description": "The integration involved."
                  },
                  "tool": {
                    "type": "string"
                  },
                  "result": {
                    "type": "string",
                    "description": "`success`, `failure` or `denied`."
                  },
                  "ip": {
                    "type": "string"
                  },
                  "userAgent": {
                    "type": "string"
                  },
                  "details": {
                    "type": "object",
                    "additionalProperties": {
                      "type": "string"
                    }
                  },
                  "prevHash": {
                    "type": "string",
                    "description": "The hash of the previous event (64 zeros for the first)."
                  },
                  "hash": {
                    "type": "string",
                    "description": "SHA-256 (hex) over this event's fields and `prevHash`."
                  }
                }
              },
              "AuditEventList": {
                "type": "object",
                "required": [
                  "items",
                  "nextCursor"
                ],
                "properties": {
                  "items": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/AuditEvent"
                    }
                  },
                  "nextCursor": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "Pass as `cursor` for the next (older) page; null on the last page."
                  }
                }
              },
              "Error": {
                "type": "object",
                "required": [
                  "error"
                ],
                "properties": {
                  "error": {
                    "type": "object",
                    "required": [
                      "code",
                      "message",
                      "requestId"
                    ],
                    "properties": {
                      "code": {
                        "type": "string",
                        "description": "A stable, machine-readable code.",
                        "enum": [
                          "not_connected",
                          "needs_reauth",
                          "provider_revoked",
                          "insufficient_scope",
                          "rate_limited",
                          "provider_unreachable",
                          "provider_unavailable",
                          "link_required",
                          "invalid_request",
                          "payload_too_large",
                          "unauthorized",
                          "forbidden",
                          "not_found",
                          "conflict",
                          "decryption_failed",
                          "internal_error",
                          "unavailable"
                        ]
                      },
                      "message": {
                        "type": "string",
                        "description": "What went wrong, in plain words."
                      },
                      "action": {
                        "type": "object",
                        "description": "What the caller can do next, when there is something.",
                        "required": [
                          "type"
                        ],
                        "properties": {
                          "type": {
                            "type": "string",
                            "description": "e.g. `connect`."
                          },
                          "url": {
                            "type": "string"
                          }
                        }
                      },
                      "retryAfter": {
                        "type": "integer",
                        "description": "Seconds to wait before retrying (also sent as `Retry-After`)."
                      },
                      "fields": {
                        "type": "array",
                        "description": "One entry per invalid input field.",
                        "items": {
                          "type": "object",
                          "required": [
                            "path",
                            "message"
                          ],
                          "properties": {
                            "path": {
                              "type": "string"
                            },
                            "message": {
                              "type": "string"
                            }
                          }
                        }
                      },
                      "requestId": {
                        "type": "string",
                        "description": "The request's id, also useful in the server logs."
                      }
                    }
                  }
                }
              }
            }
          }
        }
        """#
}
