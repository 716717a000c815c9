package tasks

import "testing"

// TestArtifactsTopic: Topic reads Topics when it is set (even short),
// else TopicOf, else nothing; out of range is "".
func TestArtifactsTopic(t *testing.T) {
	calls := 0
	of := func(i int) string { calls++; return "on demand" }
	for _, c := range []struct {
		a    Artifacts
		i    int
		want string
	}{
		{Artifacts{Topics: []string{"a", "b"}, TopicOf: of}, 1, "b"},
		{Artifacts{Topics: []string{"a", "b"}, TopicOf: of}, 2, ""},
		{Artifacts{Topics: []string{"a"}}, -1, ""},
		{Artifacts{TopicOf: of}, 5, "on demand"},
		{Artifacts{}, 0, ""},
	} {
		if got := c.a.Topic(c.i); got != c.want {
			t.Errorf("%+v Topic(%d) = %q, want %q", c.a.Topics, c.i, got, c.want)
		}
	}
	if calls != 1 {
		t.Errorf("TopicOf called %d times, want once (only without Topics)", calls)
	}
}
