package graph

import (
	"encoding/json"
	"fmt"

	"github.com/microsoft/kiota-abstractions-go/serialization"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
)

// wire serializes an SDK model back to the JSON Graph sent, which is what
// the snapshot stores (docs/DESIGN.md: "as the wire has it"). Properties the
// answer did not carry stay absent. keepType keeps "@odata.type", which
// directoryObjects need (user, orgContact, group); elsewhere it is only the
// SDK's own annotation, not part of the answer.
func wire(m serialization.Parsable, keepType bool) (map[string]any, error) {
	w := jsonserialization.NewJsonSerializationWriter()
	defer w.Close()
	if err := w.WriteObjectValue("", m); err != nil {
		return nil, fmt.Errorf("serializing %T: %w", m, err)
	}
	data, err := w.GetSerializedContent()
	if err != nil {
		return nil, fmt.Errorf("serializing %T: %w", m, err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("serializing %T: %w", m, err)
	}
	if !keepType {
		delete(out, "@odata.type")
	}
	return out, nil
}

// The message trace API (GET /admin/exchange/tracing/messageTraces and
// getDetailsByRecipient) is not in msgraph-sdk-go v1.89, so its models are
// written here, as kiota Parsables the SDK's adapter and page iterator use.

// shape lists a resource's properties by JSON type.
type shape struct {
	strings  []string
	integers []string
}

var (
	// exchangeMessageTrace (Graph v1.0).
	traceShape = &shape{
		strings:  []string{"id", "senderAddress", "recipientAddress", "messageId", "receivedDateTime", "subject", "status", "fromIP", "toIP"},
		integers: []string{"size"},
	}
	// exchangeMessageTraceDetail (Graph v1.0).
	traceDetailShape = &shape{
		strings: []string{"id", "messageId", "dateTime", "event", "action", "description", "data"},
	}
)

// wireObject is one resource kept as its wire properties, the values typed
// as encoding/json decodes them (string, float64).
type wireObject struct {
	shape *shape
	props map[string]any
}

func (s *shape) factory(serialization.ParseNode) (serialization.Parsable, error) {
	return &wireObject{shape: s, props: map[string]any{}}, nil
}

func (o *wireObject) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	res := make(map[string]func(serialization.ParseNode) error, len(o.shape.strings)+len(o.shape.integers))
	for _, f := range o.shape.strings {
		res[f] = func(n serialization.ParseNode) error {
			v, err := n.GetStringValue()
			if err == nil && v != nil {
				o.props[f] = *v
			}
			return err
		}
	}
	for _, f := range o.shape.integers {
		res[f] = func(n serialization.ParseNode) error {
			v, err := n.GetInt64Value()
			if err == nil && v != nil {
				o.props[f] = float64(*v)
			}
			return err
		}
	}
	return res
}

func (o *wireObject) Serialize(w serialization.SerializationWriter) error {
	for _, f := range o.shape.strings {
		if s, ok := o.props[f].(string); ok {
			if err := w.WriteStringValue(f, &s); err != nil {
				return err
			}
		}
	}
	for _, f := range o.shape.integers {
		if n, ok := o.props[f].(float64); ok {
			v := int64(n)
			if err := w.WriteInt64Value(f, &v); err != nil {
				return err
			}
		}
	}
	return nil
}

// wireCollection is one page of wireObjects. GetValue and GetOdataNextLink
// are what the page iterator looks for.
type wireCollection struct {
	shape    *shape
	value    []*wireObject
	nextLink *string
}

func (s *shape) page(serialization.ParseNode) (serialization.Parsable, error) {
	return &wireCollection{shape: s}, nil
}

func (c *wireCollection) GetValue() []*wireObject { return c.value }

func (c *wireCollection) GetOdataNextLink() *string { return c.nextLink }

func (c *wireCollection) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	return map[string]func(serialization.ParseNode) error{
		"value": func(n serialization.ParseNode) error {
			items, err := n.GetCollectionOfObjectValues(c.shape.factory)
			if err != nil {
				return err
			}
			c.value = make([]*wireObject, 0, len(items))
			for _, it := range items {
				if o, ok := it.(*wireObject); ok {
					c.value = append(c.value, o)
				}
			}
			return nil
		},
		"@odata.nextLink": func(n serialization.ParseNode) error {
			v, err := n.GetStringValue()
			c.nextLink = v
			return err
		},
	}
}

func (c *wireCollection) Serialize(w serialization.SerializationWriter) error {
	items := make([]serialization.Parsable, len(c.value))
	for i, o := range c.value {
		items[i] = o
	}
	if err := w.WriteCollectionOfObjectValues("value", items); err != nil {
		return err
	}
	return w.WriteStringValue("@odata.nextLink", c.nextLink)
}
