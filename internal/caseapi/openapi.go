package caseapi

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of /api/v1, served at /api/v1/openapi.json. It is
// written by hand; TestOpenAPIDescribesResponses (handlers) validates real responses
// against its schemas.
//
//go:embed openapi.json
var OpenAPI []byte
