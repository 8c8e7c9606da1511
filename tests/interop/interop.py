"""Alibaba Cloud's official SDKs against the ImageDesk sandbox.

Every flow runs with both RPC signatures (ACS3-HMAC-SHA256, the SDK default, and RPC-SHA1 via
signature_algorithm='v2') and both OSS signatures (V1, V4). Any mismatch raises and fails the run.
"""

import os
import sys
import time
import uuid

import oss2
from oss2.credentials import StaticCredentialsProvider
from alibabacloud_tea_openapi import models as openapi
from alibabacloud_ecs20140526.client import Client as Ecs
from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ehpcinstant20230701.client import Client as Ehpc
from alibabacloud_ehpcinstant20230701 import models as ehpc
from alibabacloud_ens20171110.client import Client as Ens
from alibabacloud_ens20171110 import models as ens

PORT = os.environ["SANDBOX_PORT"]
ENDPOINT = f"127.0.0.1:{PORT}"
DEMO = ("LTAI5tImageDeskDemo", "imagedesk-sandbox-demo-secret")
OTHER = ("LTAIinterop", "interop-secret")
REGION = "cn-hangzhou"
ALL_STATUSES = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated"
checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1


def config(key, algorithm):
    cfg = openapi.Config(access_key_id=key[0], access_key_secret=key[1], endpoint=ENDPOINT,
                         protocol="http", region_id=REGION)
    if algorithm:
        cfg.signature_algorithm = algorithm
    return cfg


def expect_error(code, call):
    try:
        call()
    except Exception as error:  # the SDKs raise TeaException / ClientException
        text = str(getattr(error, "code", "")) + " " + str(error)
        check(code in text, f"expected {code}, got {text[:300]}")
        return
    raise AssertionError(f"expected {code}, the call succeeded")


def wait_image(client, image_id, region=REGION, want=("Available",), timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = client.describe_images(ecs.DescribeImagesRequest(
            region_id=region, image_id=image_id, status=ALL_STATUSES)).body
        images = body.images.image if body.images else []
        if images and images[0].status in want:
            return images[0]
        time.sleep(0.2)
    raise AssertionError(f"{image_id} never reached {want}")


def oss_flows(name, auth, **kw):
    bucket = oss2.Bucket(auth, f"http://{ENDPOINT}", "imagedesk-demo-hz", **kw)
    disk = b"QFI\xfb\x00\x00\x00\x03" + os.urandom(330 * 1024)
    key = f"interop/{name}/disk.qcow2"
    put = bucket.put_object(f"interop/{name}/small.qcow2", disk[:200 * 1024])  # oss2 checks CRC-64
    check(put.status == 200 and put.crc is not None, "PutObject with CRC")
    check(bucket.get_object(f"interop/{name}/small.qcow2").read() == disk[:200 * 1024], "GetObject bytes")
    upload = bucket.init_multipart_upload(key).upload_id
    pieces = [disk[:110 * 1024], disk[110 * 1024:220 * 1024], disk[220 * 1024:]]
    parts = []
    for number in (2, 1, 3):  # out of order on purpose
        result = bucket.upload_part(key, upload, number, pieces[number - 1])
        parts.append(oss2.models.PartInfo(number, result.etag))
    listed = bucket.list_parts(key, upload)
    check([p.part_number for p in listed.parts] == [1, 2, 3], "ListParts in order")
    parts.sort(key=lambda p: p.part_number)
    done = bucket.complete_multipart_upload(key, upload, parts)
    check(done.etag.endswith("-3"), "multipart ETag has the part count")
    head = bucket.head_object(key)
    check(head.content_length == len(disk) and head.object_type == "Multipart", "HeadObject")
    check(bucket.get_object(key).read() == disk, "multipart object = concatenated parts")
    keys = [o.key for o in oss2.ObjectIteratorV2(bucket, prefix=f"interop/{name}/")]
    check(sorted(keys) == sorted([key, f"interop/{name}/small.qcow2"]), f"ListObjectsV2 {keys}")
    aborted = bucket.init_multipart_upload(f"interop/{name}/aborted").upload_id
    bucket.abort_multipart_upload(f"interop/{name}/aborted", aborted)
    expect_error("NoSuchUpload", lambda: bucket.list_parts(f"interop/{name}/aborted", aborted))
    wrong = oss2.Bucket(oss2.Auth(DEMO[0], "wrong"), f"http://{ENDPOINT}", "imagedesk-demo-hz")
    expect_error("SignatureDoesNotMatch", lambda: wrong.get_object(key))
    return key


def ecs_flows(algorithm, object_key):
    client = Ecs(config(DEMO, algorithm))
    regions = client.describe_regions(ecs.DescribeRegionsRequest()).body.regions.region
    check(any(r.region_id == REGION for r in regions), "DescribeRegions lists cn-hangzhou")

    default = client.describe_images(ecs.DescribeImagesRequest(region_id=REGION, image_owner_alias="self",
                                                               page_size=100)).body
    check(all(i.status == "Available" for i in default.images.image), "default Status=Available only")
    everything = client.describe_images(ecs.DescribeImagesRequest(
        region_id=REGION, image_owner_alias="self", status=ALL_STATUSES, page_size=7)).body
    seen, page = [], 1
    while True:
        body = client.describe_images(ecs.DescribeImagesRequest(
            region_id=REGION, image_owner_alias="self", status=ALL_STATUSES, page_size=7, page_number=page)).body
        seen += [i.image_id for i in body.images.image]
        if page * 7 >= body.total_count:
            break
        page += 1
    check(len(seen) == everything.total_count == len(set(seen)), "pagination returns each image once")

    token = uuid.uuid4().hex
    request = ecs.ImportImageRequest(
        region_id=REGION, image_name=f"interop-{algorithm or 'v3'}-{token[:6]}", client_token=token,
        architecture="x86_64", boot_mode="BIOS",
        disk_device_mapping=[ecs.ImportImageRequestDiskDeviceMapping(
            ossbucket="imagedesk-demo-hz", ossobject=object_key, format="QCOW2", disk_image_size=40)])
    first = client.import_image(request).body
    again = client.import_image(request).body
    check(first.image_id == again.image_id and first.task_id == again.task_id, "same ClientToken, same import")
    request.image_name += "-changed"
    expect_error("IdempotentParameterMismatch", lambda: client.import_image(request))
    image = wait_image(client, first.image_id)
    check(image.image_owner_alias == "self", "imported image is ours")
    task = client.describe_task_attribute(ecs.DescribeTaskAttributeRequest(region_id=REGION,
                                                                           task_id=first.task_id)).body
    check(task.task_status == "Finished" and task.task_process == "100%", f"task finished: {task.task_status}")
    tasks = client.describe_tasks(ecs.DescribeTasksRequest(region_id=REGION, task_ids=first.task_id)).body
    check(tasks.task_set.task[0].task_id == first.task_id, "DescribeTasks by id")

    bad = client.import_image(ecs.ImportImageRequest(
        region_id=REGION, image_name=f"not-a-disk-{token[:6]}",
        disk_device_mapping=[ecs.ImportImageRequestDiskDeviceMapping(
            ossbucket="imagedesk-demo-hz", ossobject="docs/readme.txt")])).body
    wait_image(client, bad.image_id, want=("CreateFailed",))
    expect_error("InvalidOSSObject.NotFound", lambda: client.import_image(ecs.ImportImageRequest(
        region_id=REGION, disk_device_mapping=[ecs.ImportImageRequestDiskDeviceMapping(
            ossbucket="imagedesk-demo-hz", ossobject="missing.qcow2")])))
    expect_error("InvalidImageName.Malformed", lambda: client.import_image(ecs.ImportImageRequest(
        region_id=REGION, image_name="aliyun-forbidden", disk_device_mapping=[
            ecs.ImportImageRequestDiskDeviceMapping(ossbucket="imagedesk-demo-hz", ossobject=object_key)])))
    expect_error("DryRunOperation", lambda: client.import_image(ecs.ImportImageRequest(
        region_id=REGION, dry_run=True, disk_device_mapping=[
            ecs.ImportImageRequestDiskDeviceMapping(ossbucket="imagedesk-demo-hz", ossobject=object_key)])))

    created = client.create_image(ecs.CreateImageRequest(region_id=REGION, instance_id="i-demo0001",
                                                         image_name=f"from-instance-{token[:6]}")).body
    wait_image(client, created.image_id)
    client.modify_image_attribute(ecs.ModifyImageAttributeRequest(
        region_id=REGION, image_id=created.image_id, image_name=f"renamed-{token[:6]}", image_family="interop-family"))
    renamed = wait_image(client, created.image_id)
    check(renamed.image_name == f"renamed-{token[:6]}" and renamed.image_family == "interop-family", "modified")
    expect_error("InvalidOperation.FeaturesImdsSupportNotMatch", lambda: client.modify_image_attribute(
        ecs.ModifyImageAttributeRequest(region_id=REGION, image_id="m-demo0006",
                                        features=ecs.ModifyImageAttributeRequestFeatures(imds_support="v1"))))
    copy = client.copy_image(ecs.CopyImageRequest(region_id=REGION, image_id=created.image_id,
                                                  destination_region_id="cn-beijing",
                                                  destination_image_name=f"copy-{token[:6]}")).body
    client.cancel_copy_image(ecs.CancelCopyImageRequest(region_id="cn-beijing", image_id=copy.image_id))
    client.delete_image(ecs.DeleteImageRequest(region_id=REGION, image_id=created.image_id))
    expect_error("InvalidImageId.NotFound", lambda: client.modify_image_attribute(
        ecs.ModifyImageAttributeRequest(region_id=REGION, image_id=created.image_id, image_name="gone-image")))
    return first.image_id

    
def ehpc_flows(algorithm, ecs_image_id):
    client = Ehpc(config(DEMO, algorithm))
    added = client.add_image(ehpc.AddImageRequest(
        name=f"interop-{algorithm or 'v3'}", image_type="VM", image_version="1.0",
        vmimage_spec=ehpc.AddImageRequestVMImageSpec(image_id=ecs_image_id))).body
    check(added.success and added.image_id, "AddImage")
    listed = client.list_images(ehpc.ListImagesRequest(image_ids=[added.image_id], image_type="VM")).body
    check([i.image_id for i in listed.images] == [added.image_id], "ListImages by id (JSON-string parameter)")
    got = client.get_image(ehpc.GetImageRequest(image_id=added.image_id, image_type="VM")).body
    check(got.image.name == f"interop-{algorithm or 'v3'}", "GetImage")
    client.remove_image(ehpc.RemoveImageRequest(image_id=added.image_id, image_type="VM"))
    expect_error("ImageNotFound", lambda: client.get_image(ehpc.GetImageRequest(image_id=added.image_id)))


def ens_flows(algorithm):
    client = Ens(config(DEMO, algorithm))
    imported = client.import_image(ens.ImportImageRequest(
        image_name=f"edge-{algorithm or 'v3'}-{uuid.uuid4().hex[:6]}", architecture="x86_64", ostype="linux",
        image_format="qcow2", compute_type="ens_vm", ossbucket="imagedesk-demo-bj",
        ossobject="images/edge-node.qcow2", ossregion="cn-beijing")).body
    check(imported.image_id, "ENS ImportImage")
    deadline = time.time() + 30
    while time.time() < deadline:
        mine = client.describe_self_images(ens.DescribeSelfImagesRequest(image_id=imported.image_id)).body
        if mine.images.image and mine.images.image[0].status == "Available":
            break
        time.sleep(0.2)
    else:
        raise AssertionError("ENS import never became Available")
    listed = client.describe_images(ens.DescribeImagesRequest(image_id=imported.image_id)).body
    check(listed.images.image[0].image_id == imported.image_id, "ENS DescribeImages")
    client.delete_image(ens.DeleteImageRequest(image_id=imported.image_id))


def main():
    keys = {}
    for name, auth, kw in [("v1", oss2.Auth(*DEMO), {}),
                           ("v4", oss2.ProviderAuthV4(StaticCredentialsProvider(*DEMO)), {"region": REGION})]:
        keys[name] = oss_flows(name, auth, **kw)
        print(f"ok  OSS {name}: put/get, multipart (out of order), list, head, abort, wrong secret")
    for algorithm, oss_name in [(None, "v1"), ("v2", "v4")]:
        label = "ACS3-HMAC-SHA256" if algorithm is None else "RPC-SHA1 (v2)"
        image_id = ecs_flows(algorithm, keys[oss_name])
        print(f"ok  ECS {label}: regions, list+paging, import (idempotent), tasks, create, modify, copy, delete, errors")
        ehpc_flows(algorithm, image_id)
        print(f"ok  E-HPC Instant {label}: add, list, get, remove")
        ens_flows(algorithm)
        print(f"ok  ENS {label}: import, describe self/all, delete")
    expect_error("SignatureDoesNotMatch", lambda: Ecs(config((DEMO[0], "wrong"), None)).describe_regions(
        ecs.DescribeRegionsRequest()))
    expect_error("InvalidAccessKeyId.NotFound", lambda: Ecs(config(("LTAInobody", "x"), "v2")).describe_regions(
        ecs.DescribeRegionsRequest()))
    print(f"interop passed: {checks} checks")


if __name__ == "__main__":
    try:
        main()
    except Exception as error:
        print(f"interop FAILED: {error}", file=sys.stderr)
        raise
