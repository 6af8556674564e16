// Package apigen holds the Go types and the Echo server interface generated from
// api/openapi.yaml by oapi-codegen: request and response models, the parameter structs of
// every operation, ServerInterface (one method per operation of /api/v1) and
// ServerInterfaceWrapper, which binds path and query parameters before calling it.
//
// Do not edit apigen.gen.go: change the document and run `go generate ./api/apigen`
// (`make generate`). TestGeneratedCodeIsCurrent fails when the committed file is stale.
// This package imports nothing of Vigil; package api implements ServerInterface.
package apigen

//go:generate go run ./gen
