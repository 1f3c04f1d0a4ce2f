#!/usr/bin/env bash
# The bucket-copy tutorial, step by step with the AWS CLI, against a running Lambdabox.
# Usage:  eval "$(lambdabox credentials)" && examples/s3-copy/run.sh
set -euo pipefail
cd "$(dirname "$0")"
: "${AWS_ENDPOINT_URL:?first run: eval \"\$(lambdabox credentials)\"}"
suffix=${SUFFIX:-$RANDOM$RANDOM}
account=${ACCOUNT_ID:-000000000000}
source_bucket=tutorial-source-$suffix
destination_bucket=tutorial-destination-$suffix
function_name=s3-copy-$suffix
role_name=s3-copy-role-$suffix
key='report (final)+v2 2024.txt'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "1. two buckets"
aws s3 mb "s3://$source_bucket"
aws s3 mb "s3://$destination_bucket"

echo "2. an execution role: Lambda may assume it; it may read the source bucket and write the destination"
aws iam create-role --role-name "$role_name" --assume-role-policy-document \
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}' \
    > /dev/null
aws iam attach-role-policy --role-name "$role_name" \
    --policy-arn arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
aws iam put-role-policy --role-name "$role_name" --policy-name copy-objects --policy-document \
    "{\"Version\": \"2012-10-17\", \"Statement\": [
        {\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::$source_bucket/*\"},
        {\"Effect\": \"Allow\", \"Action\": \"s3:PutObject\", \"Resource\": \"arn:aws:s3:::$destination_bucket/*\"}]}"

echo "3. the function, allowed to be invoked by S3 for the source bucket"
python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1], 'w').write('lambda_function.py')" "$work/function.zip"
aws lambda create-function --function-name "$function_name" --runtime python3.12 \
    --handler lambda_function.lambda_handler --zip-file "fileb://$work/function.zip" \
    --role "arn:aws:iam::$account:role/$role_name" --timeout 30 \
    --environment "Variables={DESTINATION_BUCKET=$destination_bucket}" > /dev/null
aws lambda wait function-active-v2 --function-name "$function_name"
aws lambda add-permission --function-name "$function_name" --statement-id s3invoke \
    --action lambda:InvokeFunction --principal s3.amazonaws.com \
    --source-arn "arn:aws:s3:::$source_bucket" --source-account "$account" > /dev/null

echo "4. an Object Created (PUT) notification on the source bucket"
function_arn=$(aws lambda get-function --function-name "$function_name" --query Configuration.FunctionArn --output text)
aws s3api put-bucket-notification-configuration --bucket "$source_bucket" --notification-configuration \
    "{\"LambdaFunctionConfigurations\": [{\"LambdaFunctionArn\": \"$function_arn\", \"Events\": [\"s3:ObjectCreated:Put\"]}]}"

echo "5. upload a file"
printf 'hello from the source bucket\n' > "$work/upload.txt"
aws s3 cp "$work/upload.txt" "s3://$source_bucket/$key" --content-type text/plain

echo "6. the copy appears in the destination bucket"
for _ in $(seq 1 50); do
    aws s3api head-object --bucket "$destination_bucket" --key "$key" > /dev/null 2>&1 && break
    sleep 0.1
done
aws s3api head-object --bucket "$destination_bucket" --key "$key" --query ContentType --output text
aws s3 cp "s3://$destination_bucket/$key" -
