package iamgraph

// Target is the kind of resource a method's action must be allowed on. A method has at
// most one kind other than TargetAny, and every requirement of that kind must hold on
// the same concrete target (the role whose trust policy is rewritten is the role then
// assumed).
type Target string

// Target kinds.
const (
	// TargetAny: the action is evaluated on "*" (actions on compute resources that the
	// IAM scan does not list: instances, functions, stacks...).
	TargetAny Target = "any"
	// TargetSelfUser: the principal itself, when it is a user.
	TargetSelfUser Target = "self_user"
	// TargetSelfUserBounded: the principal itself, when it is a user with a permissions boundary.
	TargetSelfUserBounded Target = "self_user_bounded"
	// TargetSelfRoleBounded: the principal itself, when it is a role with a permissions boundary.
	TargetSelfRoleBounded Target = "self_role_bounded"
	// TargetOwnGroup: a group the user belongs to.
	TargetOwnGroup Target = "own_group"
	// TargetGroup: any group of the account.
	TargetGroup Target = "group"
	// TargetOtherUser: any other user of the account.
	TargetOtherUser Target = "other_user"
	// TargetOwnPolicy: a customer-managed policy attached to the principal or its groups.
	TargetOwnPolicy Target = "own_policy"
	// TargetOwnPolicyVersions: as TargetOwnPolicy, with more than one version stored.
	TargetOwnPolicyVersions Target = "own_policy_versions"
	// TargetAssumableRole: the principal itself when it is a role, or a role whose
	// trust policy and the principal's policies let it call sts:AssumeRole.
	TargetAssumableRole Target = "assumable_role"
	// TargetRole: any role of the account.
	TargetRole Target = "role"
	// TargetPassRole: a role whose trust policy lets Method.Service assume it.
	TargetPassRole Target = "pass_role"
	// TargetPrivilegedRole: an administrator-equivalent role (other than the principal)
	// that the principal may assume (identity side and trust policy).
	TargetPrivilegedRole Target = "privileged_role"
)

// Requirement is one action a method needs, and on what.
type Requirement struct {
	Action string
	Target Target
	// IdentityOnly evaluates sts:AssumeRole on the target without its trust policy
	// (the method rewrites the trust policy first).
	IdentityOnly bool
}

// Method is one known single-principal privilege-escalation method.
type Method struct {
	// ID is stable and kebab-case, e.g. "iam-create-policy-version".
	ID string
	// Requires are the actions that must all be allowed.
	Requires []Requirement
	// Service is the service principal a passed role must trust (TargetPassRole).
	Service string
	// RoleForService, when set, requires that some role of the account trusts this
	// service principal: the method abuses an existing compute resource (instance,
	// function, notebook, project) that runs with a role, and such a resource can only
	// carry a role that trusts its service.
	RoleForService string
	// Description says how the method works.
	Description string
	// Reference is where the method is documented.
	Reference string
}

const (
	refRhino   = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"
	refRhino2  = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation-part-2/"
	refBishop  = "https://bishopfox.com/blog/privilege-escalation-in-aws"
	refHT      = "https://cloud.hacktricks.wiki/en/pentesting-cloud/aws-security/aws-privilege-escalation/index.html"
	refPassRol = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html"
)

const (
	svcEC2        = "ec2.amazonaws.com"
	svcLambda     = "lambda.amazonaws.com"
	svcGlue       = "glue.amazonaws.com"
	svcCFN        = "cloudformation.amazonaws.com"
	svcDataPipe   = "datapipeline.amazonaws.com"
	svcSageMaker  = "sagemaker.amazonaws.com"
	svcCodeBuild  = "codebuild.amazonaws.com"
	svcECSTasks   = "ecs-tasks.amazonaws.com"
	svcAppRunner  = "tasks.apprunner.amazonaws.com"
	svcEMR        = "elasticmapreduce.amazonaws.com"
	svcStates     = "states.amazonaws.com"
	svcSSM        = "ssm.amazonaws.com"
	svcBatch      = "batch.amazonaws.com"
	svcCodeStar   = "codestar.amazonaws.com"
	svcBedrockAgC = "bedrock-agentcore.amazonaws.com"
	svcAmplify    = "amplify.amazonaws.com"
	svcMWAA       = "airflow.amazonaws.com"
)

func any_(actions ...string) []Requirement {
	out := make([]Requirement, len(actions))
	for i, a := range actions {
		out[i] = Requirement{Action: a, Target: TargetAny}
	}
	return out
}

// passing builds a PassRole method: iam:PassRole on a role trusting svc plus actions on "*".
func passing(id, svc, desc, ref string, actions ...string) Method {
	return Method{ID: id, Service: svc, Description: desc, Reference: ref,
		Requires: append([]Requirement{{Action: "iam:PassRole", Target: TargetPassRole}}, any_(actions...)...)}
}

// existing builds a method that abuses an existing resource running with a role
// trusting svc.
func existing(id, svc, desc, ref string, actions ...string) Method {
	return Method{ID: id, RoleForService: svc, Description: desc, Reference: ref, Requires: any_(actions...)}
}

// on builds a method whose requirements all act on one target kind (plus optional
// "*" actions).
func on(id string, t Target, desc, ref string, targeted []string, anyActions ...string) Method {
	m := Method{ID: id, Description: desc, Reference: ref}
	for _, a := range targeted {
		m.Requires = append(m.Requires, Requirement{Action: a, Target: t})
	}
	m.Requires = append(m.Requires, any_(anyActions...)...)
	return m
}

// Methods returns the table of single-principal privilege-escalation methods. It is
// data: facts gathered from the published research listed in each Reference (Rhino
// Security Labs, Bishop Fox, HackTricks, AWS documentation), expressed as requirements
// the policy engine evaluates.
func Methods() []Method {
	return []Method{
		// Editing one's own permissions.
		on("iam-create-policy-version", TargetOwnPolicy, "Create a new default version of a customer-managed policy attached to oneself with any permissions (--set-as-default needs no iam:SetDefaultPolicyVersion).", refRhino, []string{"iam:CreatePolicyVersion"}),
		on("iam-set-default-policy-version", TargetOwnPolicyVersions, "Make an older, more permissive version of a policy attached to oneself the default one.", refRhino, []string{"iam:SetDefaultPolicyVersion"}),
		on("iam-attach-user-policy", TargetSelfUser, "Attach any managed policy (e.g. AdministratorAccess) to oneself.", refRhino, []string{"iam:AttachUserPolicy"}),
		on("iam-attach-group-policy", TargetOwnGroup, "Attach any managed policy to a group one belongs to.", refRhino, []string{"iam:AttachGroupPolicy"}),
		on("iam-attach-role-policy", TargetAssumableRole, "Attach any managed policy to a role one is or can assume.", refRhino, []string{"iam:AttachRolePolicy"}),
		on("iam-put-user-policy", TargetSelfUser, "Write an inline policy with any permissions on oneself.", refRhino, []string{"iam:PutUserPolicy"}),
		on("iam-put-group-policy", TargetOwnGroup, "Write an inline policy on a group one belongs to.", refRhino, []string{"iam:PutGroupPolicy"}),
		on("iam-put-role-policy", TargetAssumableRole, "Write an inline policy on a role one is or can assume.", refRhino, []string{"iam:PutRolePolicy"}),
		on("iam-add-user-to-group", TargetGroup, "Add oneself to a more privileged group.", refRhino, []string{"iam:AddUserToGroup"}),
		on("iam-delete-user-permissions-boundary", TargetSelfUserBounded, "Remove the permissions boundary that caps one's own permissions.", refHT, []string{"iam:DeleteUserPermissionsBoundary"}),
		on("iam-put-user-permissions-boundary", TargetSelfUserBounded, "Replace one's own permissions boundary with a permissive policy.", refHT, []string{"iam:PutUserPermissionsBoundary"}),
		on("iam-delete-role-permissions-boundary", TargetSelfRoleBounded, "Remove the permissions boundary of the role one runs as.", refHT, []string{"iam:DeleteRolePermissionsBoundary"}),
		on("iam-put-role-permissions-boundary", TargetSelfRoleBounded, "Replace the permissions boundary of the role one runs as.", refHT, []string{"iam:PutRolePermissionsBoundary"}),
		// Taking over other identities.
		on("iam-create-access-key", TargetOtherUser, "Create an access key for another (more privileged) user.", refRhino, []string{"iam:CreateAccessKey"}),
		on("iam-create-login-profile", TargetOtherUser, "Give another user a console password one chooses.", refRhino, []string{"iam:CreateLoginProfile"}),
		on("iam-update-login-profile", TargetOtherUser, "Change another user's console password.", refRhino, []string{"iam:UpdateLoginProfile"}),
		{ID: "iam-update-assume-role-policy", Description: "Rewrite a role's trust policy to trust oneself, then assume it.", Reference: refRhino,
			Requires: []Requirement{{Action: "iam:UpdateAssumeRolePolicy", Target: TargetRole}, {Action: "sts:AssumeRole", Target: TargetRole, IdentityOnly: true}}},
		{ID: "sts-assume-privileged-role", Description: "Assume an administrator-equivalent role whose trust policy admits the principal.", Reference: refBishop,
			Requires: []Requirement{{Action: "sts:AssumeRole", Target: TargetPrivilegedRole}}},
		// Minting new identities.
		on("iam-create-user-attach-policy", TargetAny, "Create a new user, attach an administrator policy and give it an access key.", refHT, nil, "iam:CreateUser", "iam:AttachUserPolicy", "iam:CreateAccessKey"),
		on("iam-create-user-put-policy", TargetAny, "Create a new user, write an inline administrator policy and give it an access key.", refHT, nil, "iam:CreateUser", "iam:PutUserPolicy", "iam:CreateAccessKey"),
		on("iam-create-role-attach-policy", TargetAny, "Create a role trusting oneself, attach an administrator policy and assume it.", refHT, nil, "iam:CreateRole", "iam:AttachRolePolicy", "sts:AssumeRole"),
		on("iam-create-role-put-policy", TargetAny, "Create a role trusting oneself, write an inline administrator policy and assume it.", refHT, nil, "iam:CreateRole", "iam:PutRolePolicy", "sts:AssumeRole"),
		// EC2 and Auto Scaling.
		passing("ec2-run-instances", svcEC2, "Launch an instance with a privileged instance profile and read its credentials from the instance metadata service.", refRhino, "ec2:RunInstances"),
		passing("ec2-request-spot-instances", svcEC2, "Request a spot instance with a privileged instance profile.", refHT, "ec2:RequestSpotInstances"),
		passing("ec2-associate-iam-instance-profile", svcEC2, "Attach a privileged instance profile to an instance one controls.", refHT, "ec2:AssociateIamInstanceProfile"),
		passing("ec2-replace-iam-instance-profile", svcEC2, "Swap the instance profile of a running instance for a privileged one.", refHT, "ec2:ReplaceIamInstanceProfileAssociation"),
		passing("ec2-create-launch-template-version", svcEC2, "Add a launch template version with a privileged role and user data, make it the default used by an Auto Scaling group.", refHT, "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"),
		passing("autoscaling-launch-configuration", svcEC2, "Create a launch configuration with a privileged instance profile and an Auto Scaling group that starts it.", refBishop, "autoscaling:CreateLaunchConfiguration", "autoscaling:CreateAutoScalingGroup"),
		passing("autoscaling-launch-template", svcEC2, "Create a launch template with a privileged instance profile and an Auto Scaling group that starts it.", refBishop, "ec2:CreateLaunchTemplate", "autoscaling:CreateAutoScalingGroup"),
		existing("ec2-modify-instance-user-data", svcEC2, "Stop an instance that runs with a role, replace its user data with code, start it again.", refHT, "ec2:ModifyInstanceAttribute", "ec2:StopInstances", "ec2:StartInstances"),
		existing("ec2-instance-connect-ssh", svcEC2, "Push an SSH key to an instance that runs with a role and log in.", refHT, "ec2-instance-connect:SendSSHPublicKey"),
		existing("ec2-instance-connect-serial", svcEC2, "Push an SSH key to the serial console of an instance that runs with a role.", refHT, "ec2-instance-connect:SendSerialConsoleSSHPublicKey"),
		existing("ssm-send-command", svcEC2, "Run commands on a managed instance that runs with a role and read its credentials.", refHT, "ssm:SendCommand"),
		existing("ssm-start-session", svcEC2, "Open a shell on a managed instance that runs with a role.", refHT, "ssm:StartSession"),
		existing("ssm-create-association", svcEC2, "Associate a command document with managed instances that run with roles.", refHT, "ssm:CreateAssociation"),
		passing("ssm-start-automation", svcSSM, "Start an SSM Automation runbook under a privileged automation role.", refHT, "ssm:StartAutomationExecution"),
		// Lambda.
		passing("lambda-create-invoke", svcLambda, "Create a function with a privileged execution role and invoke it.", refRhino, "lambda:CreateFunction", "lambda:InvokeFunction"),
		passing("lambda-create-event-source-mapping", svcLambda, "Create a function with a privileged role and trigger it from an event source (DynamoDB stream, SQS).", refRhino, "lambda:CreateFunction", "lambda:CreateEventSourceMapping"),
		passing("lambda-create-add-permission", svcLambda, "Create a function with a privileged role and grant oneself (or a service) permission to invoke it.", refHT, "lambda:CreateFunction", "lambda:AddPermission"),
		passing("lambda-create-function-url", svcLambda, "Create a function with a privileged role and expose it through a function URL.", refHT, "lambda:CreateFunction", "lambda:CreateFunctionUrlConfig"),
		existing("lambda-update-function-code", svcLambda, "Replace the code of an existing function that runs with a privileged role.", refRhino, "lambda:UpdateFunctionCode"),
		existing("lambda-update-function-configuration", svcLambda, "Add a layer or environment (e.g. a wrapper script) to an existing function so that it runs one's code with its role.", refHT, "lambda:UpdateFunctionConfiguration"),
		// Glue.
		passing("glue-create-dev-endpoint", svcGlue, "Create a Glue development endpoint with a privileged role and SSH into it.", refRhino, "glue:CreateDevEndpoint"),
		existing("glue-update-dev-endpoint", svcGlue, "Add one's SSH key to an existing development endpoint that runs with a role.", refRhino, "glue:UpdateDevEndpoint"),
		passing("glue-create-job-start", svcGlue, "Create a Glue job with a privileged role and run it.", refBishop, "glue:CreateJob", "glue:StartJobRun"),
		passing("glue-create-job-trigger", svcGlue, "Create a Glue job with a privileged role and a trigger that runs it.", refBishop, "glue:CreateJob", "glue:CreateTrigger"),
		passing("glue-update-job", svcGlue, "Point an existing Glue job at a privileged role and one's script, then run it.", refBishop, "glue:UpdateJob", "glue:StartJobRun"),
		passing("glue-interactive-session", svcGlue, "Start a Glue interactive session with a privileged role and run statements in it.", refHT, "glue:CreateSession", "glue:RunStatement"),
		// CloudFormation.
		passing("cloudformation-create-stack", svcCFN, "Create a stack that runs with a privileged service role and creates what one wants.", refRhino, "cloudformation:CreateStack"),
		passing("cloudformation-update-stack", svcCFN, "Update a stack with a privileged service role and a template of one's own.", refHT, "cloudformation:UpdateStack"),
		passing("cloudformation-change-set", svcCFN, "Create and execute a change set under a privileged service role.", refHT, "cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"),
		passing("cloudformation-stack-set", svcCFN, "Create a stack set with a privileged administration role and deploy instances of it.", refHT, "cloudformation:CreateStackSet", "cloudformation:CreateStackInstances"),
		// Data Pipeline.
		passing("datapipeline-create", svcDataPipe, "Create a pipeline whose activity runs commands with a privileged role, define and activate it.", refRhino, "datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition", "datapipeline:ActivatePipeline"),
		// SageMaker.
		passing("sagemaker-notebook-instance", svcSageMaker, "Create a notebook instance with a privileged role and open it through a presigned URL.", refBishop, "sagemaker:CreateNotebookInstance", "sagemaker:CreatePresignedNotebookInstanceUrl"),
		passing("sagemaker-training-job", svcSageMaker, "Run a training job with a privileged role and a container of one's own.", refHT, "sagemaker:CreateTrainingJob"),
		passing("sagemaker-processing-job", svcSageMaker, "Run a processing job with a privileged role and a container of one's own.", refHT, "sagemaker:CreateProcessingJob"),
		passing("sagemaker-hyperparameter-tuning-job", svcSageMaker, "Run a tuning job whose training containers use a privileged role.", refHT, "sagemaker:CreateHyperParameterTuningJob"),
		existing("sagemaker-presigned-notebook-url", svcSageMaker, "Open an existing notebook instance that runs with a role through a presigned URL.", refBishop, "sagemaker:CreatePresignedNotebookInstanceUrl"),
		existing("sagemaker-lifecycle-config", svcSageMaker, "Attach a lifecycle script to an existing notebook instance and restart it so the script runs with its role.", refHT, "sagemaker:CreateNotebookInstanceLifecycleConfig", "sagemaker:StopNotebookInstance", "sagemaker:UpdateNotebookInstance", "sagemaker:StartNotebookInstance"),
		// CodeBuild.
		passing("codebuild-create-project", svcCodeBuild, "Create a build project with a privileged service role and start a build with one's buildspec.", refBishop, "codebuild:CreateProject", "codebuild:StartBuild"),
		passing("codebuild-create-project-batch", svcCodeBuild, "Create a build project with a privileged service role and start a batch build.", refHT, "codebuild:CreateProject", "codebuild:StartBuildBatch"),
		passing("codebuild-update-project", svcCodeBuild, "Point an existing project at a privileged role and one's buildspec, then build.", refHT, "codebuild:UpdateProject", "codebuild:StartBuild"),
		existing("codebuild-start-build-override", svcCodeBuild, "Start a build of an existing project with a buildspec override: one's commands run with the project's role.", refHT, "codebuild:StartBuild"),
		// ECS and Batch.
		passing("ecs-run-task", svcECSTasks, "Register a task definition with a privileged task role and run it.", refBishop, "ecs:RegisterTaskDefinition", "ecs:RunTask"),
		passing("ecs-start-task", svcECSTasks, "Register a task definition with a privileged task role and start it on a container instance.", refHT, "ecs:RegisterTaskDefinition", "ecs:StartTask"),
		passing("ecs-create-service", svcECSTasks, "Register a task definition with a privileged task role and create a service running it.", refHT, "ecs:RegisterTaskDefinition", "ecs:CreateService"),
		passing("ecs-update-service", svcECSTasks, "Register a task definition with a privileged task role and update a service to run it.", refHT, "ecs:RegisterTaskDefinition", "ecs:UpdateService"),
		existing("ecs-execute-command", svcECSTasks, "Open a shell in a running task with ECS Exec and use its task role.", refHT, "ecs:ExecuteCommand"),
		passing("batch-submit-job", svcECSTasks, "Register a Batch job definition with a privileged job role and submit it.", refHT, "batch:RegisterJobDefinition", "batch:SubmitJob"),
		// App Runner, EMR, Step Functions, CodeStar, Amplify, MWAA, Bedrock AgentCore.
		passing("apprunner-create-service", svcAppRunner, "Create an App Runner service with a privileged instance role running one's image.", refHT, "apprunner:CreateService"),
		existing("apprunner-update-service", svcAppRunner, "Point an existing App Runner service that runs with a role at one's image or start command.", refHT, "apprunner:UpdateService"),
		passing("emr-run-job-flow", svcEMR, "Start an EMR cluster with privileged roles and run steps on it.", refHT, "elasticmapreduce:RunJobFlow"),
		passing("states-create-state-machine", svcStates, "Create a Step Functions state machine with a privileged role that calls any API, and start it.", refHT, "states:CreateStateMachine", "states:StartExecution"),
		existing("states-update-state-machine", svcStates, "Change the definition of an existing state machine that runs with a role, then start it.", refHT, "states:UpdateStateMachine", "states:StartExecution"),
		passing("codestar-create-project", svcCodeStar, "Create a CodeStar project with a privileged service role.", refRhino2, "codestar:CreateProject"),
		passing("amplify-create-app", svcAmplify, "Create an Amplify app with a privileged service role and a build of one's own.", refHT, "amplify:CreateApp", "amplify:StartJob"),
		passing("mwaa-create-environment", svcMWAA, "Create a managed Airflow environment with a privileged execution role running one's DAGs.", refHT, "airflow:CreateEnvironment"),
		passing("bedrock-agentcore-code-interpreter", svcBedrockAgC, "Create a code interpreter with a privileged execution role and run code in a session.", refHT, "bedrock-agentcore:CreateCodeInterpreter", "bedrock-agentcore:StartCodeInterpreterSession", "bedrock-agentcore:InvokeCodeInterpreter"),
	}
}
