extension OpenAPIDocument {
    /// Schemas, parameters, reusable responses and the security scheme.
    static let components = #"""
        {
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
                                        "schema": {"type": "string", "format": "uuid"}
                                      },
                        "Limit": {
                                 "name": "limit",
                                 "in": "query",
                                 "description": "The page size.",
                                 "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
                               },
                        "Cursor": {
                                  "name": "cursor",
                                  "in": "query",
                                  "description": "The `nextCursor` of the previous page.",
                                  "schema": {"type": "string"}
                                }
                      },
          "responses": {
                       "BadRequest": {
                                     "description": "The request is not valid (`invalid_request`); `error.fields` names each problem.",
                                     "content": {
                                                "application/json": {
                                                                    "schema": {"$ref": "#/components/schemas/Error"},
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
                                                                      "schema": {"$ref": "#/components/schemas/Error"},
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
                                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                                  },
                       "NotFound": {
                                   "description": "Nothing was found with that id (`not_found`).",
                                   "content": {
                                              "application/json": {
                                                                  "schema": {"$ref": "#/components/schemas/Error"},
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
                                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                                 },
                       "PayloadTooLarge": {
                                          "description": "The request body is too large (`payload_too_large`).",
                                          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                                        },
                       "DecryptionFailed": {
                                           "description": "A stored secret could not be decrypted (`decryption_failed`): it was altered or its key is not available. Nothing was returned; the event was recorded in the audit log.",
                                           "content": {
                                                      "application/json": {
                                                                          "schema": {"$ref": "#/components/schemas/Error"},
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
                     "AuditEvent": {
                                   "type": "object",
                                   "description": "One link of the tenant's hash chain. Secrets appear only as fingerprints.",
                                   "required": ["seq", "id", "timestamp", "actor", "action", "result", "details", "prevHash", "hash"],
                                   "properties": {
                                                 "seq": {
                                                        "type": "integer",
                                                        "minimum": 1,
                                                        "description": "The event's position in the tenant's chain."
                                                      },
                                                 "id": {"type": "string", "format": "uuid"},
                                                 "timestamp": {"type": "string", "format": "date-time"},
                                                 "actor": {"type": "string", "description": "Who acted, e.g. `admin_key:<id>`."},
                                                 "action": {
                                                           "type": "string",
                                                           "description": "What happened, e.g. `credential.create`, `credential.reveal`, `credential.update`, `credential.delete`."
                                                         },
                                                 "target": {"type": "string", "description": "The id of what was acted on."},
                                                 "service": {"type": "string", "description": "The integration involved."},
                                                 "tool": {"type": "string"},
                                                 "result": {"type": "string", "description": "`success`, `failure` or `denied`."},
                                                 "ip": {"type": "string"},
                                                 "userAgent": {"type": "string"},
                                                 "details": {"type": "object", "additionalProperties": {"type": "string"}},
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
                                       "required": ["items", "nextCursor"],
                                       "properties": {
                                                     "items": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEvent"}},
                                                     "nextCursor": {
                                                                   "type": ["string", "null"],
                                                                   "description": "Pass as `cursor` for the next (older) page; null on the last page."
                                                                 }
                                                   }
                                     },
                     "Error": {
                              "type": "object",
                              "required": ["error"],
                              "properties": {
                                            "error": {
                                                     "type": "object",
                                                     "required": ["code", "message", "requestId"],
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
                                                                             "required": ["type"],
                                                                             "properties": {
                                                                                           "type": {
                                                                                                   "type": "string",
                                                                                                   "description": "e.g. `connect`."
                                                                                                 },
                                                                                           "url": {"type": "string"}
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
                                                                                      "required": ["path", "message"],
                                                                                      "properties": {
                                                                                                    "path": {"type": "string"},
                                                                                                    "message": {"type": "string"}
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
        """#
}
