// Command minclient is the floor of the throughput benchmark (B1): the least a Go program can do to read a
// container's log through the Engine API, with the official client and stdcopy, counting lines and nothing else.
//
//	minclient CONTAINER    # DOCKER_HOST as for the docker CLI; prints the number of lines read
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// lineCounter counts the newlines written to it.
type lineCounter struct{ n int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: minclient CONTAINER")
		os.Exit(2)
	}
	n, err := read(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "minclient:", err)
		os.Exit(1)
	}
	fmt.Println(n)
}

func read(id string) (int, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	body, err := cli.ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true})
	if err != nil {
		return 0, err
	}
	defer body.Close()
	c := &lineCounter{}
	_, err = stdcopy.StdCopy(c, c, body)
	return c.n, err
}
