package server

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/internal/failure"
)

// decodeJSON reads exactly one JSON object into v; anything else (null, a list, a string) is
// refused, since decoding null into a struct would leave it as if {} had been sent. Unknown fields are refused, so a client
// cannot slip in fields (an owner, a role, a version) that the handler does not take.
func decodeJSON(c echo.Context, v any) error {
	req := c.Request()
	ct, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if ct != "application/json" {
		return &echo.HTTPError{Code: http.StatusUnsupportedMediaType, Message: "send the body as JSON with Content-Type: application/json"}
	}
	body := bufio.NewReader(req.Body)
	if err := wantObject(body); err != nil {
		return err
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return failure.Invalid("", "the body must hold one JSON object and nothing after it")
	}
	return nil
}

// wantObject refuses a body whose first token does not open a JSON object, leaving the
// body unread beyond white space.
func wantObject(body *bufio.Reader) error {
	for {
		b, err := body.Peek(1)
		if err != nil {
			return jsonError(err)
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			body.Discard(1)
			continue
		case '{':
			return nil
		}
		var v any
		if err := json.NewDecoder(body).Decode(&v); err != nil {
			return jsonError(err)
		}
		return failure.Invalidf("", "the body must be a JSON object, not %s", jsonKindOf(v))
	}
}

// jsonKindOf names the kind of a decoded JSON value, in the words of an error message.
func jsonKindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "true or false"
	}
	return "a number"
}

func jsonError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		maxErr    *http.MaxBytesError
		echoLimit *echo.HTTPError
	)
	switch {
	case errors.As(err, &maxErr), errors.As(err, &echoLimit) && echoLimit.Code == http.StatusRequestEntityTooLarge:
		return &echo.HTTPError{Code: http.StatusRequestEntityTooLarge, Message: "the request is too large"}
	case errors.Is(err, io.EOF):
		return failure.Invalid("", "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return failure.Invalid("", "the JSON body ends too early")
	case errors.As(err, &syntax):
		return failure.Invalidf("", "the body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return failure.Invalidf("", "the body must be a JSON object, not %s", typeErr.Value)
		}
		return failure.Invalidf(field, "must be %s, not %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return failure.Invalidf(name, "is not a field this request takes")
	}
	return failure.Invalid("", fmt.Sprintf("the JSON body could not be read: %v", err))
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "a list"
	case "struct", "map":
		return "an object"
	}
	return "a number"
}
