package otlpsink

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

func request(t *testing.T, path string, body []byte, gzipped bool) *http.Request {
	t.Helper()
	if gzipped {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, err := zw.Write(body)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		body = b.Bytes()
	}
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	if gzipped {
		r.Header.Set("Content-Encoding", "gzip")
	}
	return r
}

func TestLogsDecodesPlainAndGzippedRequests(t *testing.T) {
	want := plog.NewLogs()
	want.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("hello")
	body, err := (&plog.ProtoMarshaler{}).MarshalLogs(want)
	require.NoError(t, err)
	for _, gzipped := range []bool{false, true} {
		w := httptest.NewRecorder()
		got, ok := Logs(w, request(t, "/otlp/v1/logs", body, gzipped), "/otlp/v1/logs")
		require.True(t, ok, "gzip %v: %s", gzipped, w.Body.String())
		assert.Equal(t, "hello", got.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
	}
}

func TestLogsAnswersWhatItCannotRead(t *testing.T) {
	w := httptest.NewRecorder()
	_, ok := Logs(w, request(t, "/v1/logs", nil, false), "/otlp/v1/logs")
	assert.False(t, ok)
	assert.Equal(t, http.StatusNotFound, w.Code)

	w = httptest.NewRecorder()
	_, ok = Logs(w, request(t, "/otlp/v1/logs", []byte{0xff, 0xff}, false), "/otlp/v1/logs")
	assert.False(t, ok)
	assert.Equal(t, http.StatusBadRequest, w.Code)

	w = httptest.NewRecorder()
	bad := request(t, "/otlp/v1/logs", []byte("not gzip"), false)
	bad.Header.Set("Content-Encoding", "gzip")
	_, ok = Logs(w, bad, "/otlp/v1/logs")
	assert.False(t, ok)
	assert.Equal(t, http.StatusBadRequest, w.Code)
}

func TestServeAnswersUntilTheTestEnds(t *testing.T) {
	url := Serve(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	resp, err := http.Get(url + "/anything")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTeapot, resp.StatusCode)
}
