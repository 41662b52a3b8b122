extension OpenAPIDocument {
    /// Every `/api/v1` operation.
    static let paths = #"""
        {
          "/api/v1/credentials": {
                                 "post": {
                                         "operationId": "createCredential",
                                         "tags": ["Credentials"],
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
                                                                                                  "scopes": ["repo", "read:org"],
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
                                                                                                       "scopes": ["repo", "read:org"],
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
                                                      "400": {"$ref": "#/components/responses/BadRequest"},
                                                      "401": {"$ref": "#/components/responses/Unauthorized"},
                                                      "403": {"$ref": "#/components/responses/Forbidden"},
                                                      "404": {"$ref": "#/components/responses/NotFound"},
                                                      "409": {"$ref": "#/components/responses/Conflict"},
                                                      "413": {"$ref": "#/components/responses/PayloadTooLarge"}
                                                    }
                                       },
                                 "get": {
                                        "operationId": "listCredentials",
                                        "tags": ["Credentials"],
                                        "summary": "List credentials",
                                        "description": "Lists the tenant's credentials, page by page. Secrets are never included.",
                                        "parameters": [
                                                      {
                                                        "name": "integration",
                                                        "in": "query",
                                                        "description": "Only credentials of this integration key.",
                                                        "schema": {"type": "string"}
                                                      },
                                                      {
                                                        "name": "externalUserId",
                                                        "in": "query",
                                                        "description": "Only credentials owned by this end user.",
                                                        "schema": {"type": "string"}
                                                      },
                                                      {
                                                        "name": "connectionId",
                                                        "in": "query",
                                                        "description": "Only credentials under this connection.",
                                                        "schema": {"type": "string", "format": "uuid"}
                                                      },
                                                      {
                                                        "name": "status",
                                                        "in": "query",
                                                        "description": "Only credentials with this status.",
                                                        "schema": {"$ref": "#/components/schemas/CredentialStatus"}
                                                      },
                                                      {"$ref": "#/components/parameters/Limit"},
                                                      {"$ref": "#/components/parameters/Cursor"}
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
                                                     "400": {"$ref": "#/components/responses/BadRequest"},
                                                     "401": {"$ref": "#/components/responses/Unauthorized"}
                                                   }
                                      }
                               },
          "/api/v1/credentials/{id}": {
                                      "parameters": [{"$ref": "#/components/parameters/CredentialId"}],
                                      "get": {
                                             "operationId": "getCredential",
                                             "tags": ["Credentials"],
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
                                                                                                           "scopes": ["repo", "read:org"],
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
                                                          "400": {"$ref": "#/components/responses/BadRequest"},
                                                          "401": {"$ref": "#/components/responses/Unauthorized"},
                                                          "404": {"$ref": "#/components/responses/NotFound"}
                                                        }
                                           },
                                      "patch": {
                                               "operationId": "updateCredential",
                                               "tags": ["Credentials"],
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
                                                            "400": {"$ref": "#/components/responses/BadRequest"},
                                                            "401": {"$ref": "#/components/responses/Unauthorized"},
                                                            "404": {"$ref": "#/components/responses/NotFound"},
                                                            "409": {"$ref": "#/components/responses/Conflict"},
                                                            "413": {"$ref": "#/components/responses/PayloadTooLarge"}
                                                          }
                                             },
                                      "delete": {
                                                "operationId": "deleteCredential",
                                                "tags": ["Credentials"],
                                                "summary": "Delete a credential",
                                                "description": "Revokes the credential at the provider when the provider supports it (best effort: a failed revocation does not stop the deletion) and deletes it at once. The deletion is audited.",
                                                "responses": {
                                                             "204": {"description": "The credential was deleted."},
                                                             "400": {"$ref": "#/components/responses/BadRequest"},
                                                             "401": {"$ref": "#/components/responses/Unauthorized"},
                                                             "404": {"$ref": "#/components/responses/NotFound"}
                                                           }
                                              }
                                    },
          "/api/v1/credentials/{id}/reveal": {
                                             "parameters": [{"$ref": "#/components/parameters/CredentialId"}],
                                             "post": {
                                                     "operationId": "revealCredential",
                                                     "tags": ["Credentials"],
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
                                                                  "400": {"$ref": "#/components/responses/BadRequest"},
                                                                  "401": {"$ref": "#/components/responses/Unauthorized"},
                                                                  "404": {"$ref": "#/components/responses/NotFound"},
                                                                  "500": {"$ref": "#/components/responses/DecryptionFailed"}
                                                                }
                                                   }
                                           },
          "/api/v1/audit": {
                           "get": {
                                  "operationId": "listAuditEvents",
                                  "tags": ["Audit"],
                                  "summary": "List audit events",
                                  "description": "Lists the tenant's audit events, newest first, page by page.",
                                  "parameters": [
                                                {"$ref": "#/components/parameters/Limit"},
                                                {
                                                  "name": "cursor",
                                                  "in": "query",
                                                  "description": "The `nextCursor` of the previous page.",
                                                  "schema": {"type": "string"}
                                                },
                                                {
                                                  "name": "action",
                                                  "in": "query",
                                                  "description": "Only events with this action, e.g. `credential.reveal`.",
                                                  "schema": {"type": "string"}
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
                                               "400": {"$ref": "#/components/responses/BadRequest"},
                                               "401": {"$ref": "#/components/responses/Unauthorized"}
                                             }
                                }
                         },
          "/api/v1/audit/export": {
                                  "get": {
                                         "operationId": "exportAuditEvents",
                                         "tags": ["Audit"],
                                         "summary": "Export the audit log",
                                         "description": "Streams the tenant's whole audit chain, oldest first, as a file download: JSON lines (one event per line, keys sorted) or CSV with the columns seq, id, timestamp, tenant_id, actor, action, target, service, tool, result, ip, user_agent, details, prev_hash, hash. The hashes let the chain be verified offline.",
                                         "parameters": [
                                                       {
                                                         "name": "format",
                                                         "in": "query",
                                                         "description": "The file format.",
                                                         "schema": {"type": "string", "enum": ["jsonl", "csv"], "default": "jsonl"}
                                                       }
                                                     ],
                                         "responses": {
                                                      "200": {
                                                             "description": "The audit log as a file.",
                                                             "headers": {
                                                                        "Content-Disposition": {
                                                                                               "description": "Always an attachment named `latchkey-audit.jsonl` or `latchkey-audit.csv`.",
                                                                                               "schema": {"type": "string"}
                                                                                             }
                                                                      },
                                                             "content": {
                                                                        "application/x-ndjson": {"schema": {"type": "string"}},
                                                                        "text/csv": {"schema": {"type": "string"}}
                                                                      }
                                                           },
                                                      "400": {"$ref": "#/components/responses/BadRequest"},
                                                      "401": {"$ref": "#/components/responses/Unauthorized"}
                                                    }
                                       }
                                }
        }
        """#
}
