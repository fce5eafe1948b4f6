package wecomsim

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"path"
	"strconv"
	"strings"
	"time"
)

// mediaTTL is how long a media_id from media/upload stays usable (the
// upload page: 3 days), measured on the injectable clock.
const mediaTTL = 72 * time.Hour

// minMediaBytes: the upload page requires every file to be larger than 5
// bytes; 1 to 5 bytes answers 40006.
const minMediaBytes = 5

// Default size caps per media type, from the upload page (90253).
const (
	defaultMaxImage = 10 << 20
	defaultMaxVoice = 2 << 20
	defaultMaxVideo = 10 << 20
	defaultMaxFile  = 20 << 20
)

// mediaFormats are the file extensions each type accepts (the upload
// page: JPG and PNG images, AMR voice, MP4 video, any file). The
// emulator judges by the part's filename; WeCom's own test is unknown.
var mediaFormats = map[string][]string{
	"image": {".jpg", ".jpeg", ".png"},
	"voice": {".amr"},
	"video": {".mp4"},
	"file":  nil,
}

// media is one uploaded temporary file.
type media struct {
	typ      string
	filename string
	data     []byte
	created  time.Time
}

func (s *Server) mediaLimit(typ string) int64 {
	switch typ {
	case "image":
		return s.opts.MaxImageBytes
	case "voice":
		return s.opts.MaxVoiceBytes
	case "video":
		return s.opts.MaxVideoBytes
	default:
		return s.opts.MaxFileBytes
	}
}

// mediaBodyCap bounds a media/upload body: the largest cap plus room for
// the multipart framing, so a file just over its cap is still read and
// answered 45001 rather than cut off.
func (s *Server) mediaBodyCap() int64 {
	return max(s.opts.MaxImageBytes, s.opts.MaxVoiceBytes, s.opts.MaxVideoBytes, s.opts.MaxFileBytes) + 1<<20
}

// mediaUpload implements POST media/upload?type=TYPE with a multipart
// body whose file part is named "media".
func (s *Server) mediaUpload(c *call) (map[string]any, int) {
	typ := c.query.Get("type")
	c.target = typ
	formats, known := mediaFormats[typ]
	if !known {
		return nil, 40005
	}
	name, data, code := mediaPart(c.contentType, c.raw, s.mediaLimit(typ))
	if code != 0 {
		return nil, code
	}
	switch {
	case len(data) == 0:
		return nil, 44001
	case len(data) <= minMediaBytes:
		return nil, 40006
	case int64(len(data)) > s.mediaLimit(typ):
		return nil, 45001
	case formats != nil && !containsFold(formats, path.Ext(name)):
		return nil, 40004
	}
	s.pruneMedia(c.now)
	id := newMediaID()
	s.media[id] = &media{typ: typ, filename: name, data: data, created: c.now}
	return map[string]any{
		"type":     typ,
		"media_id": id,
		// A string in the official sample, unlike every other number.
		"created_at": strconv.FormatInt(c.now.Unix(), 10),
	}, 0
}

// mediaPart finds the "media" part of a multipart body. A body that is not
// multipart or has no such part answers 44001, whose help text says to
// check the header and body format.
func mediaPart(contentType string, raw []byte, limit int64) (string, []byte, int) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return "", nil, 44001
	}
	mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return "", nil, 44001
		}
		if err != nil {
			return "", nil, 44001
		}
		if p.FormName() != "media" {
			continue
		}
		// One byte past the cap is enough to know it is too large.
		data, err := io.ReadAll(io.LimitReader(p, limit+1))
		if err != nil {
			return "", nil, 44001
		}
		return p.FileName(), data, 0
	}
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// newMediaID looks like production's: opaque, URL-safe, about 50
// characters.
func newMediaID() string {
	return "3" + newTokenValue()[:48]
}

// pruneMedia forgets media that expired, so a long-lived emulator does not
// keep every upload.
func (s *Server) pruneMedia(now time.Time) {
	for id, m := range s.media {
		if !now.Before(m.created.Add(mediaTTL)) {
			delete(s.media, id)
		}
	}
}

// liveMedia resolves a media_id that has not expired; nil when unknown or
// expired, which WeCom answers 40007 for.
func (s *Server) liveMedia(id string, now time.Time) *media {
	m := s.media[id]
	if m == nil || !now.Before(m.created.Add(mediaTTL)) {
		return nil
	}
	return m
}

// avatarURL resolves an avatar media id to the URL user/get shows. The
// id must be a live image (the create page: 通过素材管理接口上传图片获得);
// anything else is 40007. The URL is derived from the id because the id
// itself expires while the avatar stays.
func (s *Server) avatarURL(id string) (string, int) {
	m := s.liveMedia(id, s.opts.Now())
	if m == nil || m.typ != "image" {
		return "", 40007
	}
	return "https://wework.qpic.cn/wwhead/" + shortDigest(id) + "/0", 0
}
