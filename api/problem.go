package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/store"
)

// Problem is an RFC 9457 problem details body. Code is stable and meant for programs;
// Title and Detail are for people.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Code     string       `json:"code"`
	Errors   []FieldError `json:"errors,omitempty"`
}

// FieldError points at one invalid input.
type FieldError struct {
	// Location is "body", "query", "path" or "header".
	Location string `json:"location"`
	// Field is the JSON pointer or parameter name.
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Code, p.Detail) }

// NewProblem builds a problem with the standard title of status.
func NewProblem(status int, code, detail string) *Problem {
	return &Problem{
		Type:   "https://vigil.dev/problems/" + code,
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Code:   code,
	}
}

// Problem codes used across handlers. Codes are part of the API contract: never renamed.
const (
	CodeBadRequest       = "bad_request"
	CodeValidation       = "validation_failed"
	CodeUnauthenticated  = "unauthenticated"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeConflict         = "conflict"
	CodeTooLarge         = "body_too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeRateLimited      = "rate_limited"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeInternal         = "internal_error"
	CodeUnavailable      = "unavailable"
	CodeCSRF             = "csrf_failed"
	CodeLocked           = "account_locked"
)

// errorHandler turns every error a handler returns into problem+json. Internal errors
// are logged once here, with the request id, and never described in the body.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := s.toProblem(err, c)
	p.Instance = c.Request().URL.Path
	if p.Status >= 500 {
		s.logger.ErrorContext(c.Request().Context(), "request failed",
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "path", c.Request().URL.Path, "error", err.Error())
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	_ = c.JSON(p.Status, p)
}

func (s *Server) toProblem(err error, c echo.Context) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		cp := *p
		return &cp
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := fmt.Sprint(he.Message)
		switch he.Code {
		case http.StatusNotFound:
			return NewProblem(http.StatusNotFound, CodeNotFound, "no such route: "+c.Request().Method+" "+c.Request().URL.Path)
		case http.StatusMethodNotAllowed:
			return NewProblem(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method not allowed")
		case http.StatusRequestEntityTooLarge:
			return NewProblem(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("request body is larger than %d bytes", s.cfg.MaxBodyBytes))
		case http.StatusUnsupportedMediaType:
			return NewProblem(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, msg)
		case http.StatusTooManyRequests:
			return NewProblem(http.StatusTooManyRequests, CodeRateLimited, "too many requests")
		case http.StatusUnauthorized:
			return NewProblem(http.StatusUnauthorized, CodeUnauthenticated, msg)
		case http.StatusForbidden:
			return NewProblem(http.StatusForbidden, CodeForbidden, msg)
		}
		if he.Code >= 400 && he.Code < 500 {
			return NewProblem(he.Code, CodeBadRequest, msg)
		}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return NewProblem(http.StatusNotFound, CodeNotFound, "not found")
	case errors.Is(err, store.ErrConflict):
		return NewProblem(http.StatusConflict, CodeConflict, "conflicts with an existing object")
	}
	return NewProblem(http.StatusInternalServerError, CodeInternal, "internal error; quote the request id to the operator")
}
