package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// webhook posts the Run as JSON to any endpoint, with the robot's
// markdown as "text" for chat tools that show one field.
type webhook struct {
	url string
	hc  *http.Client
}

func (*webhook) name() string { return "webhook" }

func (w *webhook) send(ctx context.Context, r Run) error {
	body, err := json.Marshal(struct {
		Run
		Text string `json:"text"`
	}{r, Markdown(r)})
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	_, err = post(ctx, w.hc, w.url, body)
	return err
}
