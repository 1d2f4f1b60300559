"""Python SDK clients (huaweicloudsdkdws, huaweicloudsdkkms) pointed at the dws-encryption container."""
import os

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkdws.v2 import DwsClient, ListClustersRequest
from huaweicloudsdkkms.v2 import KmsClient

endpoint = os.environ.get("DWS_ENDPOINT", "http://127.0.0.1:8080")  # instead of a region
credentials = BasicCredentials(
    os.environ["HUAWEICLOUD_SDK_AK"],
    os.environ["HUAWEICLOUD_SDK_SK"],
    os.environ["HUAWEICLOUD_SDK_PROJECT_ID"],
)
dws = DwsClient.new_builder().with_credentials(credentials).with_endpoints([endpoint]).build()
kms = KmsClient.new_builder().with_credentials(credentials).with_endpoints([endpoint]).build()

print(dws.list_clusters(ListClustersRequest()).count)
