// Package deploy holds the deployment files of the distribution (Swarm stack, Nomad jobs, the image's user);
// its test checks that they parse and reference what the image and the shipped configuration provide.
package deploy
