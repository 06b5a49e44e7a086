/// The OpenAPI 3 description of the status server, served at `GET /openapi.json`.
///
/// Kept as a Swift string beside the code it describes (no resource bundle to install next
/// to the binary), and checked by `OpenAPIConformanceTests`: every path answers with the
/// documented codes and content types, and `/status` has every required property.
/// Fields that may be unknown are `nullable` and still required: they are sent as `null`.
public enum OpenAPIDocument {
    public static let json = #"""
    {
      "openapi": "3.0.3",
      "info": {
        "title": "kek status",
        "version": "1",
        "description": "Progress, inventory and health of the kek worker, and one control endpoint. No response carries key material or secret values. With --require-token every path except /healthz needs the bearer token."
      },
      "components": {
        "securitySchemes": {
          "bearer": {"type": "http", "scheme": "bearer", "description": "The value of KEK_STATUS_TOKEN."}
        },
        "responses": {
          "Unauthorized": {
            "description": "Missing, malformed or wrong token; recorded in the audit log as status.unauthorized (never the token).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          },
          "Unavailable": {
            "description": "No report yet, or the last one is stale because the database does not answer.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          },
          "ForbiddenHost": {
            "description": "The Host header is missing or not one this server answers for (the listen address, loopback names on loopback, IP literals on a wildcard address, and --allow-host / KEK_STATUS_ALLOWED_HOSTS names); checked before anything else, on every path.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          }
        },
        "schemas": {
          "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "string"}}
          },
          "StatusReport": {
            "type": "object",
            "required": ["generated_at", "schema_version", "expected_schema_version", "wrap_limit", "keks", "jobs", "queue", "workers", "rotation"],
            "properties": {
              "generated_at": {"type": "string", "format": "date-time", "description": "When the database was read (up to one refresh interval, 1 s by default, before the response)."},
              "schema_version": {"type": "integer"},
              "expected_schema_version": {"type": "integer", "nullable": true},
              "wrap_limit": {"type": "integer", "description": "GCM seals allowed per KEK (NIST SP 800-38D 8.3)."},
              "keks": {"type": "array", "items": {"$ref": "#/components/schemas/KEK"}},
              "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}, "description": "Active top-level jobs, then the most recently finished; a rotation's parts are summed into it."},
              "queue": {"$ref": "#/components/schemas/Queue"},
              "workers": {"type": "array", "items": {"$ref": "#/components/schemas/Worker"}},
              "rotation": {"$ref": "#/components/schemas/Rotation"}
            }
          },
          "KEK": {
            "type": "object",
            "required": ["id", "state", "root_key_id", "created_at", "activated_at", "retired_at", "destroy_after", "destroyed_at", "dek_count", "dek_count_as_of", "dek_count_source", "wrap_count", "wrap_limit", "wrap_headroom", "root_key_recorded"],
            "properties": {
              "id": {"type": "integer"},
              "state": {"type": "string", "enum": ["pending", "active", "decrypt_only", "retired", "destroyed", "compromised"]},
              "root_key_id": {"type": "string", "description": "The id of the root key that wraps it (not a key)."},
              "created_at": {"type": "string", "format": "date-time"},
              "activated_at": {"type": "string", "format": "date-time", "nullable": true},
              "retired_at": {"type": "string", "format": "date-time", "nullable": true},
              "destroy_after": {"type": "string", "format": "date-time", "nullable": true},
              "destroyed_at": {"type": "string", "format": "date-time", "nullable": true},
              "dek_count": {"type": "integer", "description": "DEKs wrapped under this KEK at dek_count_as_of."},
              "dek_count_as_of": {"type": "string", "format": "date-time", "description": "When dek_count was true (the status read's snapshot)."},
              "dek_count_source": {"type": "string", "enum": ["exact", "maintained", "estimate"], "description": "maintained: counts the database keeps by trigger (sql/100), exact as of dek_count_as_of, read without a scan over the DEKs; exact: a count over the DEKs; estimate: planner statistics."},
              "wrap_count": {"type": "integer", "description": "Seals made under this KEK, counted against wrap_limit."},
              "wrap_limit": {"type": "integer"},
              "wrap_headroom": {"type": "integer"},
              "root_key_recorded": {"type": "boolean", "description": "False for a KEK whose root key id no kek process has proven it can open (runbooks/unopenable-kek.md)."}
            }
          },
          "Job": {
            "type": "object",
            "required": ["id", "kind", "state", "desired_state", "attempt", "max_attempts", "done", "total", "progress_ratio", "rows_per_second", "eta_seconds", "last_error", "lease_owner", "lease_expires_at", "created_at", "started_at", "finished_at", "parts"],
            "properties": {
              "id": {"type": "integer"},
              "kind": {"type": "string"},
              "state": {"type": "string", "enum": ["queued", "running", "paused", "completed", "failed", "cancelled"]},
              "desired_state": {"type": "string", "nullable": true},
              "attempt": {"type": "integer"},
              "max_attempts": {"type": "integer"},
              "done": {"type": "integer", "description": "Rows done; for a rotation, its parts' progress summed."},
              "total": {"type": "integer", "nullable": true},
              "progress_ratio": {"type": "number", "nullable": true},
              "rows_per_second": {"type": "number", "nullable": true, "description": "Over the last minute while active; the average over the run once finished."},
              "eta_seconds": {"type": "number", "nullable": true},
              "last_error": {"type": "string", "nullable": true},
              "lease_owner": {"type": "string", "nullable": true},
              "lease_expires_at": {"type": "string", "format": "date-time", "nullable": true},
              "created_at": {"type": "string", "format": "date-time"},
              "started_at": {"type": "string", "format": "date-time", "nullable": true},
              "finished_at": {"type": "string", "format": "date-time", "nullable": true},
              "parts": {"allOf": [{"$ref": "#/components/schemas/Parts"}], "nullable": true}
            }
          },
          "Parts": {
            "type": "object",
            "required": ["count", "done", "queued", "running", "paused", "completed", "failed", "cancelled"],
            "properties": {
              "count": {"type": "integer"}, "done": {"type": "integer"}, "queued": {"type": "integer"},
              "running": {"type": "integer"}, "paused": {"type": "integer"}, "completed": {"type": "integer"},
              "failed": {"type": "integer"}, "cancelled": {"type": "integer"}
            }
          },
          "Queue": {
            "type": "object",
            "required": ["counts", "oldest_queued_age_seconds"],
            "properties": {
              "counts": {"type": "array", "items": {
                "type": "object", "required": ["kind", "state", "count"],
                "properties": {"kind": {"type": "string"}, "state": {"type": "string"}, "count": {"type": "integer"}}}},
              "oldest_queued_age_seconds": {"type": "number", "nullable": true}
            }
          },
          "Worker": {
            "type": "object",
            "required": ["id", "host", "pid", "concurrency", "started_at", "last_heartbeat_at", "stopped_at", "heartbeat_age_seconds", "alive"],
            "properties": {
              "id": {"type": "string"}, "host": {"type": "string"}, "pid": {"type": "integer"}, "concurrency": {"type": "integer"},
              "started_at": {"type": "string", "format": "date-time"},
              "last_heartbeat_at": {"type": "string", "format": "date-time"},
              "stopped_at": {"type": "string", "format": "date-time", "nullable": true},
              "heartbeat_age_seconds": {"type": "number"},
              "alive": {"type": "boolean", "description": "Not stopped and a heartbeat within 30 s."}
            }
          },
          "Rotation": {
            "type": "object",
            "required": ["active_kek_id", "active_kek_age_seconds", "last_finished_at", "last_job_id", "last_rows_per_second", "rows_rewrapped_total", "next_due_at", "next_schedule", "next_basis"],
            "properties": {
              "active_kek_id": {"type": "integer", "nullable": true},
              "active_kek_age_seconds": {"type": "number", "nullable": true},
              "last_finished_at": {"type": "string", "format": "date-time", "nullable": true, "description": "From the audit log's rotation.finished rows and the completed rotation jobs."},
              "last_job_id": {"type": "integer", "nullable": true},
              "last_rows_per_second": {"type": "number", "nullable": true},
              "rows_rewrapped_total": {"type": "integer"},
              "next_due_at": {"type": "string", "format": "date-time", "nullable": true, "description": "From the rotation schedules this process loaded (jobs/*.json): for active_kek_older_than, the active KEK's activation time plus the threshold; for every, the last occurrence plus the interval. Null when unknown: no rotation schedule loaded by this process, or a condition that cannot be predicted."},
              "next_schedule": {"type": "string", "nullable": true},
              "next_basis": {"type": "string", "description": "How next_due_at was worked out, or why it is unknown."}
            }
          },
          "RotationRequest": {
            "type": "object",
            "properties": {
              "batch_size": {"type": "integer", "minimum": 1, "maximum": 50000},
              "parts": {"type": "integer", "minimum": 1, "maximum": 1024, "description": "Parts each old KEK's DEKs are split into for parallel workers; leave it out for one per 50,000 DEKs, 1 to 8 (more parts than worker loops gain nothing)."},
              "max_rate": {"type": "number", "minimum": 1, "maximum": 10000000, "description": "Rows per second for the whole rotation, final sweep included; leave it out for no cap (null is refused)."}
            }
          },
          "RotationAccepted": {
            "type": "object", "required": ["job_id", "created"],
            "properties": {
              "job_id": {"type": "integer"},
              "created": {"type": "boolean", "description": "False when a rotation was already queued or running; job_id is that one."}
            }
          }
        }
      },
      "paths": {
        "/healthz": {
          "get": {
            "summary": "The process is up (never needs a token).",
            "responses": {
              "200": {"description": "Up.", "content": {"text/plain": {"schema": {"type": "string"}}}},
              "403": {"$ref": "#/components/responses/ForbiddenHost"}
            }
          }
        },
        "/readyz": {
          "get": {
            "summary": "The database answered within the last few seconds and its schema is at the expected version.",
            "responses": {
              "200": {"description": "Ready.", "content": {"text/plain": {"schema": {"type": "string"}}}},
              "403": {"$ref": "#/components/responses/ForbiddenHost"},
              "503": {"description": "Not ready, with the reason.", "content": {"text/plain": {"schema": {"type": "string"}}}}
            }
          }
        },
        "/status": {
          "get": {
            "summary": "KEK inventory, jobs with progress, workers, last and next rotation.",
            "responses": {
              "200": {"description": "The report.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StatusReport"}}}},
              "403": {"$ref": "#/components/responses/ForbiddenHost"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/v1/kek/status": {
          "get": {
            "summary": "The same report as /status, at the path of the KEK management PRD.",
            "responses": {
              "200": {"description": "The report.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StatusReport"}}}},
              "403": {"$ref": "#/components/responses/ForbiddenHost"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/metrics": {
          "get": {
            "summary": "Prometheus text exposition 0.0.4 of the same report; always 200 (kek_status_refresh_success 0 and only build and refresh series when the report is unavailable).",
            "responses": {
              "200": {"description": "Metrics.", "content": {"text/plain; version=0.0.4": {"schema": {"type": "string"}}}},
              "403": {"$ref": "#/components/responses/ForbiddenHost"}
            }
          }
        },
        "/openapi.json": {
          "get": {
            "summary": "This document.",
            "responses": {
              "200": {"description": "OpenAPI 3.", "content": {"application/json": {"schema": {"type": "object"}}}},
              "403": {"$ref": "#/components/responses/ForbiddenHost"}
            }
          }
        },
        "/api/v1/kek/rotate": {
          "post": {
            "summary": "Enqueue a KEK rotation (the same job as 'kek rotate'). 404 when the server has no KEK_STATUS_TOKEN.",
            "security": [{"bearer": []}],
            "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RotationRequest"}}}},
            "responses": {
              "202": {"description": "Enqueued, or already queued or running.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RotationAccepted"}}}},
              "400": {"description": "The body is not a valid rotation request.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "403": {"$ref": "#/components/responses/ForbiddenHost"},
              "404": {"description": "The endpoint is off (no token configured).", "content": {"text/plain": {"schema": {"type": "string"}}}},
              "503": {"description": "The database did not take the job.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
          }
        }
      }
    }
    """#
}
