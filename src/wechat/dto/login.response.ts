import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { UserDto } from '../../users/dto/user.dto';

@ApiSchema({ description: 'A successful login: the bearer token and the user' })
export class LoginResponse {
  @ApiProperty({ description: 'Bearer token for every guarded route (HS256 JWT)', example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwidmVyIjowfQ.signature' })
  token: string;

  @ApiProperty({ enum: ['Bearer'], description: 'How to send the token: `Authorization: Bearer <token>`', example: 'Bearer' })
  tokenType: 'Bearer';

  @ApiProperty({ description: 'Seconds until the token expires', example: 604800 })
  expiresIn: number;

  @ApiProperty({ type: UserDto, description: 'The user who logged in (created at the first login)' })
  user: UserDto;
}
