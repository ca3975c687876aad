package dockerlogsreceiver

//go:generate go tool mdatagen metadata.yaml
