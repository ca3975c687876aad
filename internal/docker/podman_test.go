package docker

import (
	"testing"

	"github.com/docker/docker/api/types/events"
	"github.com/stretchr/testify/assert"
)

func TestNormalizeAction(t *testing.T) {
	assert.Equal(t, events.ActionDestroy, NormalizeAction("remove"), "Podman's removal")
	for _, a := range []events.Action{events.ActionStart, events.ActionDie, events.ActionDestroy, events.ActionRename, events.ActionRestart} {
		assert.Equal(t, a, NormalizeAction(a))
	}
}
