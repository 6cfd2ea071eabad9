package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
)

// imageInputs are RemoteImage's inputs this stand-in implements.
var imageInputs = []string{"name", "keepLocally", "forceRemove", "pullTriggers", "triggers", "platform"}

// imageForceNew: a new name, platform or trigger is a new image; keepLocally
// and forceRemove only change what a later delete does.
var imageForceNew = map[string]bool{"name": true, "pullTriggers": true, "triggers": true, "platform": true}

func checkImage(news map[string]any) (map[string]any, []string) {
	var failures []string
	if n, _ := news["name"].(string); n == "" {
		if v, ok := news["name"]; !ok || !isUnknown(v) {
			failures = append(failures, failure("name", "Missing required property 'name'"))
		}
	}
	for k := range news {
		if !contains(imageInputs, k) && k != "__defaults" {
			failures = append(failures, failure(k, fmt.Sprintf("%s is not supported by this stand-in of the docker provider", k)))
		}
	}
	return news, failures
}

// findImage returns the local image by name, pulling it only when it is not
// present locally (upstream resource_docker_image_funcs.go findImage).
func (p *dockerProvider) findImage(ctx context.Context, name, platform string) (image.InspectResponse, error) {
	c, err := p.docker()
	if err != nil {
		return image.InspectResponse{}, err
	}
	if local, err := c.ImageInspect(ctx, name); err == nil {
		return local, nil
	}
	rc, err := c.ImagePull(ctx, name, image.PullOptions{Platform: platform})
	if err == nil {
		err = jsonmessage.DisplayJSONMessagesStream(rc, io.Discard, 0, false, nil)
		_ = rc.Close()
	}
	if err != nil {
		return image.InspectResponse{}, fmt.Errorf("unable to pull image %s: %w", name, err)
	}
	img, err := c.ImageInspect(ctx, name)
	if err != nil {
		return image.InspectResponse{}, fmt.Errorf("unable to find or pull image %s", name)
	}
	return img, nil
}

// repoDigestOf is "" without repo digests, the only one when there is one,
// else the first one of the named repository (data_source_docker_image.go determineRepoDigest).
func repoDigestOf(name string, img image.InspectResponse) string {
	switch len(img.RepoDigests) {
	case 0:
		return ""
	case 1:
		return img.RepoDigests[0]
	}
	repo := name
	if i := strings.Index(repo, "@"); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	for _, d := range img.RepoDigests {
		if strings.HasPrefix(d, repo) {
			return d
		}
	}
	return img.RepoDigests[0]
}

func (p *dockerProvider) createImage(ctx context.Context, in map[string]any, preview bool) (string, map[string]any, error) {
	out := merge(in, nil)
	name, _ := in["name"].(string)
	if preview {
		out["imageId"] = plugin.UnknownStringValue
		out["repoDigest"] = plugin.UnknownStringValue
		return "", out, nil
	}
	platform, _ := in["platform"].(string)
	img, err := p.findImage(ctx, name, platform)
	if err != nil {
		return "", nil, fmt.Errorf("Unable to read Docker image into resource: %w", err)
	}
	out["imageId"] = img.ID
	out["repoDigest"] = repoDigestOf(name, img)
	return img.ID + name, out, nil
}

func (p *dockerProvider) readImage(ctx context.Context, _ string, state map[string]any) (map[string]any, bool, error) {
	c, err := p.docker()
	if err != nil {
		return nil, false, err
	}
	name, _ := state["name"].(string)
	img, err := c.ImageInspect(ctx, name)
	if errdefs.IsNotFound(err) {
		return nil, true, nil // gone locally: dropped from the state, no error
	}
	if err != nil {
		return nil, false, err
	}
	out := merge(state, nil)
	out["imageId"] = img.ID
	out["repoDigest"] = repoDigestOf(name, img)
	return out, false, nil
}

func (p *dockerProvider) deleteImage(ctx context.Context, state map[string]any) error {
	if keep, _ := state["keepLocally"].(bool); keep {
		return nil
	}
	c, err := p.docker()
	if err != nil {
		return err
	}
	// By name, so an image with other tags is only untagged; an image already gone is fine.
	name, _ := state["name"].(string)
	if _, err := c.ImageInspect(ctx, name); err != nil {
		return nil
	}
	force, _ := state["forceRemove"].(bool)
	if _, err := c.ImageRemove(ctx, name, image.RemoveOptions{Force: force}); err != nil {
		return fmt.Errorf("Unable to remove Docker image: %w", err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// updateImage follows a keepLocally or forceRemove change: the image is found
// (pulled only if it went missing) and read again (resourceDockerImageUpdate).
func (p *dockerProvider) updateImage(ctx context.Context, olds, news map[string]any, preview bool) (map[string]any, error) {
	out := merge(olds, news)
	if preview {
		return out, nil
	}
	name, _ := news["name"].(string)
	platform, _ := news["platform"].(string)
	img, err := p.findImage(ctx, name, platform)
	if err != nil {
		return nil, fmt.Errorf("Unable to read Docker image into resource: %w", err)
	}
	out["imageId"] = img.ID
	out["repoDigest"] = repoDigestOf(name, img)
	return out, nil
}
