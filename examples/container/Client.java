// Java SDK clients (huaweicloud-sdk-dws, huaweicloud-sdk-kms) pointed at the dws-encryption container.
import com.huaweicloud.sdk.core.auth.BasicCredentials;
import com.huaweicloud.sdk.core.auth.ICredential;
import com.huaweicloud.sdk.dws.v2.DwsClient;
import com.huaweicloud.sdk.dws.v2.model.ListClustersRequest;
import com.huaweicloud.sdk.kms.v2.KmsClient;
import java.util.List;

public class Client {
    public static void main(String[] args) {
        String endpoint = System.getenv().getOrDefault("DWS_ENDPOINT", "http://127.0.0.1:8080"); // instead of a region
        ICredential credential = new BasicCredentials()
            .withAk(System.getenv("HUAWEICLOUD_SDK_AK"))
            .withSk(System.getenv("HUAWEICLOUD_SDK_SK"))
            .withProjectId(System.getenv("HUAWEICLOUD_SDK_PROJECT_ID"));
        DwsClient dws = DwsClient.newBuilder().withCredential(credential).withEndpoints(List.of(endpoint)).build();
        KmsClient kms = KmsClient.newBuilder().withCredential(credential).withEndpoints(List.of(endpoint)).build();

        System.out.println(dws.listClusters(new ListClustersRequest()).getCount());
    }
}
