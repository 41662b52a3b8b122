extension OpenAPIDocument {
    /// Schemas of credentials: create, update, metadata, unreadable rows, secrets, lists and reveal.
    static let credentialSchemas = #"""
        {
                     "CredentialType": {"type": "string", "enum": ["oauth2", "api_key", "basic"]},
                     "CredentialStatus": {"type": "string", "enum": ["active", "expired", "revoked", "needs_reauth"]},
                     "CreateCredentialRequest": {
                                                "type": "object",
                                                "required": ["integration", "type"],
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
                                                              "type": {"$ref": "#/components/schemas/CredentialType"},
                                                              "accessToken": {
                                                                             "type": "string",
                                                                             "description": "Required for `oauth2`. At most 64 KiB."
                                                                           },
                                                              "refreshToken": {"type": "string", "description": "At most 64 KiB."},
                                                              "tokenType": {"type": "string"},
                                                              "idToken": {"type": "string", "description": "At most 64 KiB."},
                                                              "apiKey": {
                                                                        "type": "string",
                                                                        "description": "Required for `api_key`. At most 64 KiB."
                                                                      },
                                                              "username": {"type": "string", "description": "Required for `basic`."},
                                                              "password": {
                                                                          "type": "string",
                                                                          "description": "Required for `basic`. At most 64 KiB."
                                                                        },
                                                              "expiresAt": {"type": "string", "format": "date-time"},
                                                              "scopes": {
                                                                        "type": "array",
                                                                        "maxItems": 500,
                                                                        "items": {"type": "string", "minLength": 1, "maxLength": 500}
                                                                      },
                                                              "label": {"type": "string", "maxLength": 200},
                                                              "providerAccount": {
                                                                                 "type": "string",
                                                                                 "description": "Who the credential is at the provider, e.g. alice@company.com."
                                                                               },
                                                              "connectionConfig": {
                                                                                  "type": "object",
                                                                                  "maxProperties": 50,
                                                                                  "additionalProperties": {"type": "string"}
                                                                                }
                                                            }
                                              },
                     "UpdateCredentialRequest": {
                                                "type": "object",
                                                "additionalProperties": false,
                                                "properties": {
                                                              "label": {"type": "string", "maxLength": 200},
                                                              "scopes": {"type": "array", "items": {"type": "string"}},
                                                              "expiresAt": {"type": "string", "format": "date-time"},
                                                              "isDefault": {
                                                                           "type": "boolean",
                                                                           "const": true,
                                                                           "description": "Only `true` is accepted: it makes this credential its owner's default."
                                                                         },
                                                              "providerAccount": {"type": "string"},
                                                              "accessToken": {"type": "string"},
                                                              "refreshToken": {"type": "string"},
                                                              "apiKey": {"type": "string"},
                                                              "username": {"type": "string"},
                                                              "password": {"type": "string"}
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
                                                 "id": {"type": "string", "format": "uuid"},
                                                 "integration": {"type": "string", "description": "The integration key."},
                                                 "connectionId": {"type": "string", "format": "uuid"},
                                                 "externalUserId": {
                                                                   "type": ["string", "null"],
                                                                   "description": "The owning end user; absent for a shared credential."
                                                                 },
                                                 "type": {"$ref": "#/components/schemas/CredentialType"},
                                                 "status": {"$ref": "#/components/schemas/CredentialStatus"},
                                                 "statusReason": {"type": ["string", "null"]},
                                                 "label": {"type": ["string", "null"]},
                                                 "isDefault": {"type": "boolean"},
                                                 "scopes": {"type": "array", "items": {"type": "string"}},
                                                 "expiresAt": {"type": ["string", "null"], "format": "date-time"},
                                                 "providerAccount": {"type": ["string", "null"]},
                                                 "connectionConfig": {"type": "object", "additionalProperties": {"type": "string"}},
                                                 "keyVersion": {
                                                               "type": "integer",
                                                               "description": "The version of the key the secret is encrypted under."
                                                             },
                                                 "version": {
                                                            "type": "integer",
                                                            "description": "The row version; it grows with every change."
                                                          },
                                                 "connectedAt": {"type": "string", "format": "date-time"},
                                                 "lastRefreshedAt": {"type": ["string", "null"], "format": "date-time"},
                                                 "lastUsedAt": {"type": ["string", "null"], "format": "date-time"},
                                                 "createdAt": {"type": "string", "format": "date-time"},
                                                 "updatedAt": {"type": "string", "format": "date-time"},
                                                 "notice": {
                                                           "type": "string",
                                                           "description": "Something to act on, e.g. an import that created its integration disabled."
                                                         }
                                               }
                                 },
                     "UnreadableCredential": {
                                             "type": "object",
                                             "description": "A credential row Latchkey cannot read (a damaged column). It is marked needs_reauth and audited once; nothing stored in the damaged column is shown.",
                                             "required": ["id", "status", "error"],
                                             "properties": {
                                                           "id": {"type": "string"},
                                                           "integration": {"type": "string"},
                                                           "connectionId": {"type": "string"},
                                                           "status": {"type": "string", "enum": ["unreadable"]},
                                                           "error": {
                                                                     "type": "object",
                                                                     "required": ["column", "message"],
                                                                     "properties": {
                                                                                   "column": {"type": "string", "description": "The damaged column."},
                                                                                   "message": {"type": "string", "description": "What happened and what to do, in plain words."}
                                                                                 }
                                                                   }
                                                         }
                                           },
                     "CredentialSecret": {
                                         "type": "object",
                                         "description": "The secret part of a credential. Only the fields that are set are present.",
                                         "properties": {
                                                       "accessToken": {"type": "string"},
                                                       "refreshToken": {"type": "string"},
                                                       "tokenType": {"type": "string"},
                                                       "idToken": {"type": "string"},
                                                       "apiKey": {"type": "string"},
                                                       "username": {"type": "string"},
                                                       "password": {"type": "string"}
                                                     }
                                       },
                     "CredentialList": {
                                       "type": "object",
                                       "required": ["items", "nextCursor"],
                                       "properties": {
                                                     "items": {
                                                               "type": "array",
                                                               "items": {
                                                                         "oneOf": [
                                                                                   {"$ref": "#/components/schemas/Credential"},
                                                                                   {"$ref": "#/components/schemas/UnreadableCredential"}
                                                                                 ]
                                                                       }
                                                             },
                                                     "nextCursor": {
                                                                   "type": ["string", "null"],
                                                                   "description": "Pass as `cursor` for the next page; null on the last page."
                                                                 }
                                                   }
                                     },
                     "RevealResponse": {
                                       "type": "object",
                                       "required": ["credential", "secret"],
                                       "properties": {
                                                     "credential": {"$ref": "#/components/schemas/Credential"},
                                                     "secret": {"$ref": "#/components/schemas/CredentialSecret"}
                                                   }
                                     }
        }
        """#
}
