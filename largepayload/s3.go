package largepayload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3API is the part of the aws-sdk-go-v2 S3 client (*s3.Client) that
// S3Store uses.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// S3Store is a Store in Amazon S3 (or any S3 endpoint).
type S3Store struct {
	Client S3API
}

// Put implements Store with PutObject.
func (s S3Store) Put(ctx context.Context, bucket, key, body string) error {
	_, err := s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &bucket,
		Key:           &key,
		Body:          strings.NewReader(body),
		ContentLength: new(int64(len(body))),
	})
	if err != nil {
		return fmt.Errorf("largepayload: putting s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// Get implements Store with GetObject; the object's body is streamed.
func (s S3Store) Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("%w: s3://%s/%s: %v", ErrNotFound, bucket, key, err)
		}
		return nil, fmt.Errorf("largepayload: getting s3://%s/%s: %w", bucket, key, err)
	}
	return out.Body, nil
}

// Delete implements Store with DeleteObject.
func (s S3Store) Delete(ctx context.Context, bucket, key string) error {
	if _, err := s.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key}); err != nil && !notFound(err) {
		return fmt.Errorf("largepayload: deleting s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// notFound reports whether err is S3's answer for a missing object.
func notFound(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound") {
		return true
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}
