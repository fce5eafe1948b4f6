package wecomsim

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestMediaUpload(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.upload("file", "staff.csv", []byte("姓名,帐号\n"))
	must(t, r, 0, "upload")
	if r.msg != "" || r.body["type"] != "file" || r.body["created_at"] != fmt.Sprint(e.clock.Now().Unix()) {
		t.Fatalf("answer %s", r.raw)
	}
	id, _ := r.body["media_id"].(string)
	if len(id) < 20 || len(id) > 64 {
		t.Fatalf("media_id %q", id)
	}
	if other := e.mediaID("file", "staff.csv", []byte("姓名,帐号\n")); other == id {
		t.Fatal("two uploads got the same media_id")
	}
}

func TestMediaUploadRefusals(t *testing.T) {
	e := newEnv(t, Options{MaxFileBytes: 100})
	cases := []struct {
		why, typ, name string
		data           []byte
		want           int
	}{
		{"no type", "", "a.csv", []byte("123456"), 40005},
		{"unknown type", "doc", "a.csv", []byte("123456"), 40005},
		{"empty file", "file", "a.csv", nil, 44001},
		{"5 bytes", "file", "a.csv", []byte("12345"), 40006},
		{"6 bytes", "file", "a.csv", []byte("123456"), 0},
		{"over MaxFileBytes", "file", "a.csv", bytes.Repeat([]byte("x"), 101), 45001},
		{"at MaxFileBytes", "file", "a.csv", bytes.Repeat([]byte("x"), 100), 0},
		{"a text file as an image", "image", "a.txt", pngBytes, 40004},
		{"a jpg", "image", "A.JPG", pngBytes, 0},
		{"an mp3 as voice", "voice", "a.mp3", pngBytes, 40004},
		{"an amr", "voice", "a.amr", []byte("#!AMR\n..."), 0},
		{"an avi as video", "video", "a.avi", pngBytes, 40004},
		{"an mp4", "video", "a.mp4", pngBytes, 0},
	}
	for _, c := range cases {
		must(t, e.upload(c.typ, c.name, c.data), c.want, c.why)
	}

	tok := url.QueryEscape(e.token(editSecret))
	post := func(ct, body string) result {
		req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/cgi-bin/media/upload?type=file&access_token="+tok, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		return e.do(req)
	}
	must(t, post("application/json", `{"media":"x"}`), 44001, "not multipart")
	must(t, post("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"other\"; filename=\"a.csv\"\r\n\r\n123456\r\n--b--\r\n"), 44001, "no media part")
	must(t, e.get("media/upload", map[string]string{"type": "file"}), 40058, "GET")
}

// The caps default to the upload page's figures; one byte over voice's
// 2 MB is 45001.
func TestMediaUploadDefaultCaps(t *testing.T) {
	e := newEnv(t, Options{})
	must(t, e.upload("voice", "a.amr", bytes.Repeat([]byte("v"), 2<<20)), 0, "2 MB voice")
	must(t, e.upload("voice", "a.amr", bytes.Repeat([]byte("v"), 2<<20+1)), 45001, "2 MB + 1 voice")
}

// A body larger than every cap plus the framing allowance is cut off
// while it is read, and still answers 45001 rather than a read error.
func TestMediaUploadBodyCutOff(t *testing.T) {
	e := newEnv(t, Options{MaxImageBytes: 1000, MaxVoiceBytes: 1000, MaxVideoBytes: 1000, MaxFileBytes: 1000})
	must(t, e.upload("file", "a.csv", bytes.Repeat([]byte("f"), 1000+1<<20+1)), 45001, "a body past the cap")
}

func TestAvatarMediaIDLifetime(t *testing.T) {
	e := newEnv(t, Options{})
	img := e.mediaID("image", "face.png", pngBytes)
	must(t, e.post("user/create", userBody("a", obj{"avatar_mediaid": img})), 0, "avatar from a fresh upload")
	r := e.get("user/get", map[string]string{"userid": "a"})
	avatar, _ := r.body["avatar"].(string)
	thumb, _ := r.body["thumb_avatar"].(string)
	if !strings.HasSuffix(avatar, "/0") || thumb != strings.TrimSuffix(avatar, "/0")+"/100" {
		t.Fatalf("avatar %q thumb %q", avatar, thumb)
	}
	// A member keeps the avatar after the id expires; the id itself dies.
	e.clock.Advance(72*time.Hour - time.Second)
	delete(e.tokens, editSecret) // the cached token expired long ago
	must(t, e.post("user/create", userBody("b", obj{"avatar_mediaid": img})), 0, "avatar 1 s before expiry")
	e.clock.Advance(time.Second)
	must(t, e.post("user/create", userBody("c", obj{"avatar_mediaid": img})), 40007, "avatar at expiry")
	must(t, e.post("user/update", obj{"userid": "a", "avatar_mediaid": img}), 40007, "update with an expired id")
	if got := e.get("user/get", map[string]string{"userid": "a"}).body["avatar"]; got != avatar {
		t.Fatalf("avatar after the id expired: %v", got)
	}
	file := e.mediaID("file", "a.csv", []byte("123456"))
	must(t, e.post("user/create", userBody("d", obj{"avatar_mediaid": file})), 40007, "a file as an avatar")
}
