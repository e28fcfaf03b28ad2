package wire

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTimestamp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		json    string
		want    time.Time
		wantErr bool // decoding or converting fails
	}{
		{`"1764074400"`, time.Unix(1764074400, 0).UTC(), false},
		{`1764074400`, time.Unix(1764074400, 0).UTC(), false},
		{`null`, time.Time{}, false},
		{`""`, time.Time{}, false},
		{`"0"`, time.Unix(0, 0).UTC(), false},
		{`"253402300799"`, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{`"253402300800"`, time.Time{}, true},
		{`"-1"`, time.Time{}, true},
		{`"dün"`, time.Time{}, true},
		{`1.5`, time.Time{}, true},
		{`1e9`, time.Time{}, true},
		{`true`, time.Time{}, true},
		{`{}`, time.Time{}, true},
	}
	for _, tt := range tests {
		var ts Timestamp
		err := json.Unmarshal([]byte(tt.json), &ts)
		var got time.Time
		if err == nil {
			got, err = ts.Time()
		}
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("%s: got %v, %v; want %v, error %v", tt.json, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestTimestampEncodesAsString(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Status{ID: "w", Status: "read", Timestamp: "1764074400"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"w","status":"read","timestamp":"1764074400"}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestIndex(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Index{`"0"`: "0", `2`: "2", `null`: ""} {
		var i Index
		if err := json.Unmarshal([]byte(in), &i); err != nil || i != want {
			t.Errorf("%s: got %q, %v", in, i, err)
		}
	}
	var i Index
	if err := json.Unmarshal([]byte(`[0]`), &i); err == nil {
		t.Error("decoded a list as an index")
	}
}
